from django.db import models


class ReminderKind(models.TextChoices):
    READING = "reading", "What to read"
    STARTING = "starting", "Starting soon"
    CHANGED = "changed", "Time changed"
    CANCELLED = "cancelled", "Cancelled"


class ReminderState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


# The kinds planned ahead of a session, at a lead time before it starts.
SCHEDULED_KINDS = (ReminderKind.READING, ReminderKind.STARTING)
# The preference switch that turns each kind on or off.
PREFERENCE_FIELD = {
    ReminderKind.READING: "email_reading",
    ReminderKind.STARTING: "email_starting",
    ReminderKind.CHANGED: "email_changed",
    ReminderKind.CANCELLED: "email_cancelled",
}
