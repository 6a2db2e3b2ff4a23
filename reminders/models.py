"""Telling people: notification preferences (and, later, the reminder outbox)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from sessions_app.validators import validate_timezone


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # Blank means "the group's timezone" wherever a time is shown.
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
