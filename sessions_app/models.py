"""Who meets, and when. Fields and constraints only: every write is a service."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.validators import validate_multiline_text, validate_single_line, validate_timezone

from .enums import NoteVisibility, Role, RSVPStatus, SessionStatus, SummaryAttendance


class User(AbstractUser):
    # Names go into email headers and calendar files: one line each.
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[validate_single_line])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[validate_single_line])
    display_name = models.CharField(max_length=150, blank=True, validators=[validate_single_line])

    @property
    def name(self) -> str:
        return self.name_from(self.display_name, self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(display_name: str, first_name: str, last_name: str, username: str) -> str:
        """`name` from the columns it reads, for lists read as values (`selectors.facilitators_of_sessions`)."""
        return display_name or f"{first_name} {last_name}".strip() or username


class StudyGroup(models.Model):
    name = models.CharField(max_length=200, validators=[validate_single_line])
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True, validators=[validate_multiline_text])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Reminder defaults for the group's sessions (a session may override them).
    reading_lead_minutes = models.PositiveIntegerField(default=3 * 24 * 60)
    starting_lead_minutes = models.PositiveIntegerField(default=2 * 60)
    # Who a new note is for, unless the writer chose otherwise in this group before (Membership).
    default_note_visibility = models.CharField(
        max_length=16, choices=NoteVisibility.choices, default=NoteVisibility.GROUP
    )
    # Whether a highlight (a note without words) counts as posting for "post before you peek".
    highlights_unlock_peek = models.BooleanField(default=False)
    # Facilitators see each member's reading progress (opened, % read, notes); off: totals only.
    member_progress_visible = models.BooleanField(default=True)
    # The after-session summary names who came, or only counts them.
    summary_attendance = models.CharField(
        max_length=8, choices=SummaryAttendance.choices, default=SummaryAttendance.NAMES
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_note_visibility__in=NoteVisibility.values), name="group_note_visibility_valid"
            ),
            models.CheckConstraint(
                condition=Q(summary_attendance__in=SummaryAttendance.values), name="group_summary_attendance_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    # The audience this person last chose for a note in this group ("" until they write one): the note
    # form starts there, else at the group's default.
    note_visibility = models.CharField(max_length=16, choices=NoteVisibility.choices, blank=True)
    # Rises with every change to what this person alone sees of the group's sessions (their private
    # notes, their hidden notes, threads of theirs others cannot see): `sessions_app.versions`.
    personal_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["group_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="membership_once_per_group"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"

    @property
    def has_facilitator_rights(self) -> bool:
        return self.role in (Role.ORGANIZER, Role.FACILITATOR)

    @property
    def is_organizer(self) -> bool:
        return self.role == Role.ORGANIZER

    @property
    def default_note_visibility(self) -> str:
        """Where this person's note form starts in this group: their last choice, else the group's default."""
        return self.note_visibility or self.group.default_note_visibility


class Invitation(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="invitations")
    token = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    use_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(use_count__lte=F("max_uses")), name="invitation_uses_within_max"),
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="invitation_max_uses_positive"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid"),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.group} as {self.role}"


class Series(models.Model):
    """A run of sessions generated from an RRULE at a fixed local wall-clock time."""

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="series")
    title = models.CharField(max_length=200, validators=[validate_single_line])
    description = models.TextField(blank=True, validators=[validate_multiline_text])
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    # Local wall-clock start of the first occurrence, kept without an offset
    # so that the time of day stays fixed across DST changes.
    first_starts_on = models.DateField()
    local_start_time = models.TimeField(help_text="Wall-clock time in the series' timezone.")
    duration_minutes = models.PositiveIntegerField(default=90)
    rrule = models.CharField(max_length=500, blank=True, validators=[validate_single_line])
    location = models.CharField(max_length=300, blank=True, validators=[validate_single_line])
    online_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group_id", "id"]
        verbose_name_plural = "series"
        constraints = [models.CheckConstraint(condition=Q(duration_minutes__gte=1), name="series_duration_positive")]

    def __str__(self) -> str:
        return self.title

    @property
    def first_starts_at(self) -> datetime:
        """The first occurrence as a naive local datetime (the RRULE's DTSTART)."""
        return datetime.combine(self.first_starts_on, self.local_start_time)


class Session(models.Model):
    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="sessions")
    series = models.ForeignKey(Series, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions")
    # Which occurrence of the series' rule this is (0-based); stays put when
    # the one session is moved, so editing the series can find it again.
    occurrence_index = models.PositiveIntegerField(null=True, blank=True)
    # Edited or cancelled on its own: later edits of the series leave it be.
    detached = models.BooleanField(default=False)
    title = models.CharField(max_length=200, validators=[validate_single_line])
    description = models.TextField(blank=True, validators=[validate_multiline_text])
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    location = models.CharField(max_length=300, blank=True, validators=[validate_single_line])
    online_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    facilitators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="facilitated_sessions")
    # RFC 5545 SEQUENCE: rises on every change a calendar should pick up.
    sequence = models.PositiveIntegerField(default=0)
    # "Post before you peek": members see others' group notes on this
    # session's passages only once they have written their own.
    post_before_peek = models.BooleanField(default=False)
    # Reminder leads for this session alone; empty means the group's.
    reading_lead_minutes = models.PositiveIntegerField(null=True, blank=True)
    starting_lead_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The session's preparation time in minutes: the sum of its readings' minutes. The readings layer
    # computes it and writes it through `services.schedule.session_reading_minutes_set`; stored here so
    # session lists (API, pages, export) show it without reaching up into readings.
    reading_minutes = models.PositiveIntegerField(default=0)
    # What each role is shown of the session beyond its own row (readings, passages, notes,
    # questions, facilitators, names) changed this many times: one counter per role, raised in the
    # same transaction as the change, only for the roles that see it. `sessions_app.versions`.
    members_version = models.PositiveBigIntegerField(default=0)
    facilitators_version = models.PositiveBigIntegerField(default=0)
    organizers_version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        # The notes visibility rule asks, for every note it reads, whether the group has a "post before you
        # peek" session reading its passage (readings.selectors._peek_guarded): this index holds only those
        # sessions, so in a group with none the answer is one probe of an empty index, not a walk through all
        # of the group's sessions per note (docs/benchmarks.md, Load: the pack's notes query).
        indexes = [models.Index(fields=["group"], condition=Q(post_before_peek=True), name="session_peek_by_group")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"),
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="session_status_valid"),
            models.UniqueConstraint(
                fields=["series", "occurrence_index"],
                condition=Q(series__isnull=False),
                name="session_occurrence_once_per_series",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def effective_starting_lead_minutes(self) -> int:
        return (
            self.starting_lead_minutes if self.starting_lead_minutes is not None else self.group.starting_lead_minutes
        )

    @property
    def effective_reading_lead_minutes(self) -> int:
        return self.reading_lead_minutes if self.reading_lead_minutes is not None else self.group.reading_lead_minutes


class RSVP(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(max_length=16, choices=RSVPStatus.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "RSVP"
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="rsvp_once_per_session"),
            models.CheckConstraint(condition=Q(status__in=RSVPStatus.values), name="rsvp_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.status} {self.session}"


class Attendance(models.Model):
    """A member who was there, as marked by a facilitator after the session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendance")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "attendance"
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attendance_once_per_session")]

    def __str__(self) -> str:
        return f"{self.user} attended {self.session}"


class CalendarFeed(models.Model):
    """The secret address of a user's personal calendar feed (all their groups' sessions)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    secret = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class ApiToken(models.Model):
    """A key for `Authorization: Token <key>`. Only its SHA-256 is stored; the key is shown once, when made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, validators=[validate_single_line])
    # The key's first characters, so a person can tell their tokens apart; never enough to use one.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Written at most once a minute (sessions_app.services.api_tokens.API_TOKEN_USE_RESOLUTION).
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "expires_at"], name="api_token_user_expiry")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"
