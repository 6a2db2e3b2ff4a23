"""Telling people: notification preferences and the reminder outbox. Fields and constraints only."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from sessions_app.models import Session
from sessions_app.validators import validate_timezone

from .enums import ReminderKind, ReminderState


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # Blank means "the session's own timezone" wherever a time is shown.
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    # Days before a session for the reading reminder; beats group and session defaults.
    reading_lead_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    email_reading = models.BooleanField(default=True)
    email_starting = models.BooleanField(default=True)
    email_changed = models.BooleanField(default=True)
    email_cancelled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reading_lead_days__isnull=True) | Q(reading_lead_days__gte=1, reading_lead_days__lte=7),
                name="preference_reading_lead_1_to_7_days",
            )
        ]

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class Reminder(models.Model):
    """One email to one person about one session: the outbox row.

    The database is the schedule: planning writes rows, the dispatcher claims
    the due ones (`pending`, `next_attempt_at` passed; or `sending` with an
    expired lease) and records each outcome on the row.
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # The session start this email is about; a moved session gets new rows.
    for_starts_at = models.DateTimeField()
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
            models.UniqueConstraint(
                fields=["session", "recipient", "kind", "for_starts_at"], name="reminder_once_per_start"
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
        return f"{self.kind} reminder to {self.recipient_id} for session {self.session_id} ({self.state})"
