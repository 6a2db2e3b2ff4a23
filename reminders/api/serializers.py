from rest_framework import serializers

from core.api.fields import AwareDateTimeField, SingleLineField, TimezoneField

from ..enums import Delivery, NotificationKind
from ..models import READING_LEAD_MAX_MINUTES


class NotificationsSerializer(serializers.Serializer):
    reading = serializers.BooleanField(source="email_reading", required=False)
    starting = serializers.BooleanField(source="email_starting", required=False)
    changed = serializers.BooleanField(source="email_changed", required=False)
    cancelled = serializers.BooleanField(source="email_cancelled", required=False)
    reply = serializers.ChoiceField(choices=Delivery.choices, source="email_reply", required=False)
    mention = serializers.ChoiceField(choices=Delivery.choices, source="email_mention", required=False)
    answer = serializers.ChoiceField(choices=Delivery.choices, source="email_answer", required=False)
    nudge = serializers.BooleanField(
        source="email_nudge", required=False, help_text="A nudge before a session when little of its reading is read."
    )
    summary = serializers.BooleanField(
        source="email_summary",
        required=False,
        help_text="The summary after a session: who came, its questions and answers, follow-ups, what is next.",
    )
    brief = serializers.BooleanField(
        source="email_brief",
        required=False,
        help_text="For those who lead a session: the facilitator's brief, BRIEF_HOURS_BEFORE it starts.",
    )


class MeSerializer(serializers.Serializer):
    """The signed-in user's profile and preferences, read and written in one place."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    display_name = SingleLineField(max_length=150, allow_blank=True, required=False)
    email = serializers.EmailField(required=False)
    timezone = TimezoneField(allow_blank=True, required=False, help_text="Blank: each session's own timezone.")
    reading_lead_minutes = serializers.IntegerField(
        min_value=60,
        max_value=READING_LEAD_MAX_MINUTES,
        allow_null=True,
        required=False,
        help_text="Your reading reminder, minutes before a session (60 to 20160); null: the session's or group's.",
    )
    digest_hour = serializers.IntegerField(
        min_value=0,
        max_value=23,
        required=False,
        help_text="The local hour (in `timezone`, else UTC) of the daily digest.",
    )
    notifications = NotificationsSerializer(required=False)
    unread_notifications = serializers.IntegerField(read_only=True)

    def validate(self, data):
        # The lead was in days once; a client still sending days would otherwise be ignored in silence.
        if "reading_lead_days" in self.initial_data:
            raise serializers.ValidationError(
                {"reading_lead_days": "The reading lead is in minutes: send reading_lead_minutes (4320 for 3 days)."}
            )
        return data


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NotifiedNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    passage = serializers.IntegerField()
    text = RefSerializer(help_text="The text's id and title.")
    withheld = serializers.BooleanField(
        help_text="Post before you peek: you have not written on this passage yet, so the note's words are not shown."
    )
    body = serializers.CharField(allow_null=True, help_text="null while withheld.")


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    read = serializers.BooleanField()
    created_at = AwareDateTimeField()
    actor = RefSerializer(allow_null=True)
    group = RefSerializer()
    note = NotifiedNoteSerializer(allow_null=True)
    url = serializers.CharField(help_text="Where the note is read: a session's reader, else the text's page.")


class NotificationsReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError({"ids": "Give the ids of the notifications to mark read, or all: true."})
        return data


class NotificationsReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread notifications became read.")
    unread_notifications = serializers.IntegerField()
