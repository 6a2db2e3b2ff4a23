from django.db import models


class ReminderKind(models.TextChoices):
    READING = "reading", "What to read"
    STARTING = "starting", "Starting soon"
    CHANGED = "changed", "Time changed"
    CANCELLED = "cancelled", "Cancelled"
