from rest_framework import serializers

from core.api.fields import SingleLineField, TimezoneField


class NotificationsSerializer(serializers.Serializer):
    reading = serializers.BooleanField(source="email_reading", required=False)
    starting = serializers.BooleanField(source="email_starting", required=False)
    changed = serializers.BooleanField(source="email_changed", required=False)
    cancelled = serializers.BooleanField(source="email_cancelled", required=False)


class MeSerializer(serializers.Serializer):
    """The signed-in user's profile and preferences, read and written in one place."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    display_name = SingleLineField(max_length=150, allow_blank=True, required=False)
    email = serializers.EmailField(required=False)
    timezone = TimezoneField(allow_blank=True, required=False, help_text="Blank: each session's own timezone.")
    reading_lead_days = serializers.IntegerField(min_value=1, max_value=7, allow_null=True, required=False)
    notifications = NotificationsSerializer(required=False)
