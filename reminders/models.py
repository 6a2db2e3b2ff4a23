"""Telling people: notification preferences, notifications, and the outbox of emails. Fields and constraints only."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.validators import validate_timezone
from sessions_app.models import Session

from .enums import SESSION_KINDS, Delivery, NotificationKind, ReminderKind, ReminderState

READING_LEAD_MAX_MINUTES = 14 * 24 * 60


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # Blank means "the session's own timezone" wherever a time is shown.
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    # Minutes before a session for the reading reminder, with the bounds of the group's and the
    # session's leads (sessions_app.services.schedule.check_leads); beats both. Blank: theirs.
    reading_lead_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(60), MaxValueValidator(READING_LEAD_MAX_MINUTES)]
    )
    email_reading = models.BooleanField(default=True)
    email_starting = models.BooleanField(default=True)
    email_changed = models.BooleanField(default=True)
    email_cancelled = models.BooleanField(default=True)
    # A nudge before a session when less than NUDGE_BELOW_PERCENT of its reading is read.
    email_nudge = models.BooleanField(default=True)
    # The summary after a session: who came, its questions and answers, the follow-ups, what is next.
    email_summary = models.BooleanField(default=True)
    # For those who lead a session: the facilitator's brief, BRIEF_HOURS_BEFORE it starts.
    email_brief = models.BooleanField(default=True)
    # Replies, mentions and answers: never, at once (a few minutes' worth in one email), or in the daily digest.
    email_reply = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NOW)
    email_mention = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NOW)
    email_answer = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NOW)
    # The local hour (in `timezone`, else UTC) the daily digest goes out.
    digest_hour = models.PositiveSmallIntegerField(default=8, validators=[MaxValueValidator(23)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reading_lead_minutes__isnull=True)
                | Q(reading_lead_minutes__gte=60, reading_lead_minutes__lte=READING_LEAD_MAX_MINUTES),
                name="preference_reading_lead_60_minutes_to_14_days",
            ),
            models.CheckConstraint(condition=Q(digest_hour__lte=23), name="preference_digest_hour_0_to_23"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__in": Delivery.values}), name=f"preference_{field}_valid"
                )
                for field in ("email_reply", "email_mention", "email_answer")
            ),
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class Reminder(models.Model):
    """One email to one person: the outbox row.

    The database is the schedule: planning writes rows, the dispatcher claims
    the due ones (`pending`, `next_attempt_at` passed; or `sending` with an
    expired lease) and records each outcome on the row.

    A row about one session (`SESSION_KINDS`) carries the session and the
    start it is about. A row that tells of notifications (a reply, a
    mention, the daily digest) has no session: the notifications it covers
    are its `events` (`OutboxEvent`), and more may join it until it is
    claimed. `dedupe_key` names the email (kind, recipient and what it is
    about), so planning the same email twice, even concurrently, keeps one row.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    dedupe_key = models.CharField(max_length=200)
    # The session start this email is about; a moved session gets new rows.
    for_starts_at = models.DateTimeField(null=True, blank=True)
    # For a `changed` notice: the start it moved from.
    previous_starts_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=ReminderState.choices, default=ReminderState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the dispatcher may (next) take the row: `due_at` at first, later the retry time.
    next_attempt_at = models.DateTimeField()
    # While `sending`: the row belongs to one worker until then; afterwards it may be claimed again.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="reminder_dedupe_key_once"),
            models.CheckConstraint(
                condition=~Q(kind__in=SESSION_KINDS) | Q(session__isnull=False, for_starts_at__isnull=False),
                name="reminder_session_kind_has_session",
            ),
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=ReminderState.values), name="reminder_state_valid"),
            models.CheckConstraint(
                condition=~Q(state=ReminderState.SENDING) | Q(lease_until__isnull=False),
                name="reminder_sending_has_lease",
            ),
        ]
        indexes = [
            # The claim query: due pending rows, and sending rows whose lease ran out.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="reminder_due"),
            models.Index(fields=["lease_until"], condition=Q(state="sending"), name="reminder_lease"),
            models.Index(fields=["recipient", "session"], name="reminder_recipient_session"),
        ]

    def __str__(self) -> str:
        about = f"session {self.session_id}" if self.session_id else f"{self.events.count()} notification(s)"
        return f"{self.kind} email to {self.recipient_id} about {about} ({self.state})"


class Notification(models.Model):
    """Something one person should hear of: a reply to their note, a mention of them, an answer to their question.

    Shown on the bell and the notifications page; emailed through the outbox
    (`OutboxEvent`) as the recipient's preferences say. What it shows is read
    from the note at the time it is shown or sent, with the recipient's
    rights then: a note made private, deleted or hidden since tells nothing.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    group = models.ForeignKey("sessions_app.StudyGroup", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    note = models.ForeignKey(
        "readings.Note", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"),
            # One note tells one person one thing (a reply that mentions its parent's author is a mention).
            models.UniqueConstraint(
                fields=["recipient", "note"], condition=Q(note__isnull=False), name="notification_once_per_note"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} notification to {self.recipient_id} ({'read' if self.read_at else 'unread'})"


class OutboxEvent(models.Model):
    """One notification an outbox email covers; an email covers one or more (a batch, or a day's digest)."""

    email = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="events")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="emails")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["email", "notification"], name="outbox_event_once"),
        ]

    def __str__(self) -> str:
        return f"Notification {self.notification_id} in email {self.email_id}"
