"""The personal reading lead in minutes, like the group's and the session's (it was in days)."""

import django.core.validators
from django.db import migrations, models
from django.db.models import F, Q

DAY = 24 * 60


def lead_days_to_minutes(apps, schema_editor):
    """Every stored lead of N days becomes N × 1440 minutes (one UPDATE); blank stays blank."""
    rows = apps.get_model("reminders", "NotificationPreference").objects.using(schema_editor.connection.alias)
    rows.filter(reading_lead_days__isnull=False).update(reading_lead_minutes=F("reading_lead_days") * DAY)


def lead_minutes_to_days(apps, schema_editor):
    """Back to whole days, 1 to 7 (the old bounds): a lead that was not a whole number of days is rounded."""
    rows = apps.get_model("reminders", "NotificationPreference").objects.using(schema_editor.connection.alias)
    for row in rows.filter(reading_lead_minutes__isnull=False):
        row.reading_lead_days = min(7, max(1, round(row.reading_lead_minutes / DAY)))
        row.save(update_fields=["reading_lead_days"])


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0007_brief_preference"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="notificationpreference",
            name="preference_reading_lead_1_to_7_days",
        ),
        migrations.AddField(
            model_name="notificationpreference",
            name="reading_lead_minutes",
            field=models.PositiveIntegerField(
                blank=True,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(60),
                    django.core.validators.MaxValueValidator(20160),
                ],
            ),
        ),
        migrations.RunPython(lead_days_to_minutes, lead_minutes_to_days),
        migrations.RemoveField(
            model_name="notificationpreference",
            name="reading_lead_days",
        ),
        migrations.AddConstraint(
            model_name="notificationpreference",
            constraint=models.CheckConstraint(
                condition=Q(reading_lead_minutes__isnull=True)
                | Q(reading_lead_minutes__gte=60, reading_lead_minutes__lte=20160),
                name="preference_reading_lead_60_minutes_to_14_days",
            ),
        ),
    ]
