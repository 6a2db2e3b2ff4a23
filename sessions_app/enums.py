from django.db import models


class Role(models.TextChoices):
    ORGANIZER = "organizer", "Organizer"
    FACILITATOR = "facilitator", "Facilitator"
    MEMBER = "member", "Member"


class SessionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"


class NoteVisibility(models.TextChoices):
    """Who sees a note (readings' notes; here because a group's settings name a default audience)."""

    PRIVATE = "private", "Only me"
    GROUP = "group", "The group"
    FACILITATORS = "facilitators", "Facilitators"


class SummaryAttendance(models.TextChoices):
    """How the after-session summary tells who came."""

    NAMES = "names", "Names of those who came"
    COUNTS = "counts", "Only how many came"


class RSVPStatus(models.TextChoices):
    GOING = "going", "Going"
    MAYBE = "maybe", "Maybe"
    DECLINED = "declined", "Declined"


# Sessions an after-session summary is about and points to: held or to be held (never drafts, which members
# do not see, nor cancelled ones, which did not meet).
SUMMARY_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.COMPLETED)

# The statuses a session may be given directly (cancelling has its own action).
SESSION_STATUSES_ON_CREATE = [SessionStatus.DRAFT, SessionStatus.SCHEDULED]
SESSION_STATUSES_ON_EDIT = [SessionStatus.DRAFT, SessionStatus.SCHEDULED, SessionStatus.COMPLETED]
