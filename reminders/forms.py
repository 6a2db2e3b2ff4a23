import zoneinfo

from django import forms

# Every IANA zone, sorted, once per process.
TIMEZONE_CHOICES = [("", "Each session’s own time zone")] + [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"
]
LEAD_CHOICES = [("", "The group’s default (usually 3 days)")] + [
    (str(days), f"{days} day{'s' if days > 1 else ''} before") for days in range(1, 8)
]


class PreferencesForm(forms.Form):
    """The preferences page: what the me/ API sets, as a form."""

    timezone = forms.ChoiceField(
        label="Your time zone",
        choices=TIMEZONE_CHOICES,
        required=False,
        help_text="Times on the pages and in reminder emails are shown in this zone.",
    )
    reading_lead_days = forms.TypedChoiceField(
        label="Send “what to read” reminders",
        choices=LEAD_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    email_reading = forms.BooleanField(label="Email me what to read before each session", required=False)
    email_starting = forms.BooleanField(label="Email me when a session is about to start", required=False)
    email_changed = forms.BooleanField(label="Email me when a session moves to a new time", required=False)
    email_cancelled = forms.BooleanField(label="Email me when a session is cancelled", required=False)
