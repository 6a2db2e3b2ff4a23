from django.db import models


class ReminderKind(models.TextChoices):
    """What an outbox email is about. Each kind can be switched off (or, for notifications, batched) per person."""

    READING = "reading", "What to read"
    STARTING = "starting", "Starting soon"
    CHANGED = "changed", "Time changed"
    CANCELLED = "cancelled", "Cancelled"
    REPLY = "reply", "Replies to your notes"
    MENTION = "mention", "Mentions of you"
    ANSWER = "answer", "Answers to your questions"
    DIGEST = "digest", "Daily digest"
    NUDGE = "nudge", "Reading nudges"
    BRIEF = "brief", "Facilitator's brief"
    SUMMARY = "summary", "After-session summary"


class ReminderState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class NotificationKind(models.TextChoices):
    """What a notification tells; each is emailed as the outbox kind of the same name."""

    REPLY = "reply", "Reply"
    MENTION = "mention", "Mention"
    ANSWER = "answer", "Answer"


class Delivery(models.TextChoices):
    """How a person gets the emails of one notification kind."""

    OFF = "off", "Never"
    NOW = "now", "At once"
    DIGEST = "digest", "In the daily digest"


# The kinds planned ahead of a session, at a lead time before it starts.
SCHEDULED_KINDS = (ReminderKind.READING, ReminderKind.STARTING, ReminderKind.BRIEF)
# Rows about one session at one start time: they carry the session and `for_starts_at`.
SESSION_KINDS = (
    ReminderKind.READING,
    ReminderKind.STARTING,
    ReminderKind.CHANGED,
    ReminderKind.CANCELLED,
    ReminderKind.NUDGE,
    ReminderKind.BRIEF,
    ReminderKind.SUMMARY,
)
# About an upcoming session: pointless once it has started, so the dispatcher skips them then.
UPCOMING_KINDS = (ReminderKind.READING, ReminderKind.STARTING, ReminderKind.NUDGE, ReminderKind.BRIEF)
# Emails that tell of notifications (the rows' events, `OutboxEvent`), sent at once in small batches.
NOTIFICATION_KINDS = (ReminderKind.REPLY, ReminderKind.MENTION, ReminderKind.ANSWER)
# The preference field that turns each kind on or off (a boolean), or says how it is delivered (a `Delivery`).
PREFERENCE_FIELD = {
    ReminderKind.READING: "email_reading",
    ReminderKind.STARTING: "email_starting",
    ReminderKind.CHANGED: "email_changed",
    ReminderKind.CANCELLED: "email_cancelled",
    ReminderKind.NUDGE: "email_nudge",
    ReminderKind.SUMMARY: "email_summary",
    ReminderKind.BRIEF: "email_brief",
    ReminderKind.REPLY: "email_reply",
    ReminderKind.MENTION: "email_mention",
    ReminderKind.ANSWER: "email_answer",
}
# Unsubscribing from a kind: what is written to the preference. The digest is unsubscribed from by
# switching off every kind that goes into it (see `preference_unsubscribe`).
UNSUBSCRIBE_KINDS = (*PREFERENCE_FIELD, ReminderKind.DIGEST)
