"""Forms of the HTML pages. They validate input; the writes are the same services the API calls."""

import zoneinfo
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm

from core.validators import known_timezones, validate_multiline_text, validate_schedulable_date, validate_single_line
from reminders.enums import Delivery
from sessions_app.enums import SESSION_STATUSES_ON_CREATE, NoteVisibility, Role, SummaryAttendance
from sessions_app.models import Session, StudyGroup
from sessions_app.passwords import PasswordSetThroughService
from sessions_app.recurrence import local_to_utc


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(known_timezones())]


class PasswordResetSetForm(PasswordSetThroughService, SetPasswordForm):
    """The new-password form a reset link opens."""


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label="User name",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
        validators=[validate_single_line],
    )
    display_name = forms.CharField(
        max_length=150,
        required=False,
        label="Your name",
        help_text="How the group sees you beside your notes; your user name if you leave it empty.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        validators=[validate_single_line],
    )
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only digits, and not a common password.",
    )


class DescriptionField(forms.CharField):
    """A description (of a group, series or session): optional, several lines, at most DESCRIPTION_MAX_CHARS.

    The pages' twin of `core.api.fields.DescriptionField`.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", settings.DESCRIPTION_MAX_CHARS)
        kwargs.setdefault("validators", [validate_multiline_text])
        super().__init__(**kwargs)


class GroupForm(forms.Form):
    name = forms.CharField(max_length=200, validators=[validate_single_line])
    description = DescriptionField()
    timezone = forms.ChoiceField(
        choices=timezone_choices, initial="Europe/London", help_text="Where the group meets; sessions default to it."
    )


class GroupNoteSettingsForm(forms.Form):
    """An organizer's settings for the group's notes (`group_update` checks them again)."""

    default_note_visibility = forms.ChoiceField(
        choices=NoteVisibility.choices,
        label="New notes are for",
        help_text="Where a member's note form starts until they choose an audience; then it remembers theirs.",
    )
    highlights_unlock_peek = forms.BooleanField(
        required=False,
        label="A highlight counts as posting for “post before you peek”",
        help_text="Off: only a note with words shows a member the group's notes on that passage.",
    )
    summary_attendance = forms.ChoiceField(
        choices=SummaryAttendance.choices,
        required=False,
        label="The summary after a session shows",
        help_text="Who came, by name, or only how many.",
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("summary_attendance"):  # a form posted without it leaves the setting as it is
            cleaned.pop("summary_attendance", None)
        return cleaned


class InvitationForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)
    max_uses = forms.IntegerField(min_value=1, max_value=1000, initial=10, label="How many people may use it")
    days = forms.IntegerField(min_value=1, max_value=90, initial=14, label="Valid for (days)")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SessionForm(forms.Form):
    """A session in local wall-clock time; the service stores it in UTC."""

    title = forms.CharField(max_length=200, validators=[validate_single_line])
    starts_at = forms.DateTimeField(
        label="Starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[validate_schedulable_date],
    )
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=1, max_value=24 * 60, initial=90)
    timezone = forms.ChoiceField(choices=timezone_choices, help_text="The start time is local time in this zone.")
    location = forms.CharField(max_length=300, required=False, validators=[validate_single_line])
    online_url = forms.URLField(max_length=500, required=False, label="Online link", assume_scheme="https")
    description = DescriptionField()
    status = forms.ChoiceField(
        choices=[(status.value, status.label) for status in SESSION_STATUSES_ON_CREATE],
        initial="scheduled",
        help_text="Drafts are seen only by organizers and facilitators.",
    )
    facilitators = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    post_before_peek = forms.BooleanField(
        required=False, label="Post before you peek: members see others' notes once they have written their own"
    )

    def __init__(self, *args, group: StudyGroup, session: Session | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        people = group.memberships.select_related("user").order_by("user__username")
        self.fields["facilitators"].choices = [(str(m.user_id), m.user.name) for m in people]
        self.fields["timezone"].initial = group.timezone
        self.current_status = session.status if session is not None else None
        if self.current_status == "cancelled":
            # Saving must not reinstate it by accident: reinstating is a choice of its own.
            self.fields["status"].choices = [("cancelled", "Cancelled"), ("scheduled", "Scheduled again (reinstate)")]
            self.fields["status"].help_text = "Reinstating tells the members by email."
        elif self.current_status == "completed":
            del self.fields["status"]

    def service_fields(self) -> dict:
        """The cleaned form as `session_create` / `session_update` keyword arguments."""
        data = self.cleaned_data
        starts_at = local_to_utc(data["starts_at"].replace(tzinfo=None), data["timezone"])
        return {
            "title": data["title"],
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(minutes=data["duration_minutes"]),
            "timezone": data["timezone"],
            "location": data["location"],
            "online_url": data["online_url"],
            "description": data["description"],
            **({"status": data["status"]} if data.get("status", self.current_status) != self.current_status else {}),
            "facilitators": [int(pk) for pk in data["facilitators"]],
            "post_before_peek": data["post_before_peek"],
        }

    @classmethod
    def initial_for(cls, session: Session) -> dict:
        local = session.starts_at.astimezone(ZoneInfo(session.timezone))
        return {
            "title": session.title,
            "starts_at": local.replace(tzinfo=None),
            "duration_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
            "timezone": session.timezone,
            "location": session.location,
            "online_url": session.online_url,
            "description": session.description,
            "status": session.status,
            "facilitators": [str(user.pk) for user in session.facilitators.all()],
            "post_before_peek": session.post_before_peek,
        }


FREQUENCIES = [("WEEKLY", "Every week"), ("DAILY", "Every day"), ("MONTHLY", "Every month")]


class SeriesForm(forms.Form):
    """A run of sessions at the same local time; the recurrence is built as an RFC 5545 RRULE."""

    title = forms.CharField(max_length=200, validators=[validate_single_line])
    first_starts_at = forms.DateTimeField(
        label="First session",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Local time; later sessions keep this time of day, across daylight-saving changes.",
        validators=[validate_schedulable_date],
    )
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=1, max_value=24 * 60, initial=90)
    timezone = forms.ChoiceField(choices=timezone_choices)
    frequency = forms.ChoiceField(choices=FREQUENCIES, initial="WEEKLY", label="Repeats")
    count = forms.IntegerField(min_value=1, max_value=200, initial=8, label="How many sessions", required=False)
    until = forms.DateField(
        required=False,
        label="…or until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to use the number of sessions.",
        validators=[validate_schedulable_date],
    )
    location = forms.CharField(max_length=300, required=False, validators=[validate_single_line])
    online_url = forms.URLField(max_length=500, required=False, label="Online link", assume_scheme="https")
    description = DescriptionField()

    def __init__(self, *args, group: StudyGroup, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].initial = group.timezone

    def clean(self):
        data = super().clean()
        if not data.get("count") and not data.get("until"):
            self.add_error("count", "Say how many sessions, or until when.")
        return data

    def rrule(self) -> str:
        data = self.cleaned_data
        end = f"UNTIL={data['until']:%Y%m%d}" if data.get("until") else f"COUNT={data['count']}"
        return f"FREQ={data['frequency']};{end}"

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "timezone": data["timezone"],
            "first_starts_at": data["first_starts_at"].replace(tzinfo=None),
            "duration_minutes": data["duration_minutes"],
            "rrule": self.rrule(),
            "location": data["location"],
            "online_url": data["online_url"],
            "description": data["description"],
        }

    @classmethod
    def initial_for(cls, series) -> dict:
        parts = dict(part.split("=", 1) for part in series.rrule.split(";") if "=" in part)
        until = parts.get("UNTIL", "")[:8]
        return {
            "title": series.title,
            "first_starts_at": datetime.combine(series.first_starts_on, series.local_start_time),
            "duration_minutes": series.duration_minutes,
            "timezone": series.timezone,
            "frequency": parts.get("FREQ", "WEEKLY"),
            "count": int(parts["COUNT"]) if parts.get("COUNT", "").isdigit() else None,
            "until": datetime.strptime(until, "%Y%m%d").date() if until else None,
            "location": series.location,
            "online_url": series.online_url,
            "description": series.description,
        }


# Every IANA zone, sorted, once per process.
TIMEZONE_CHOICES = [("", "Each session’s own time zone")] + [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"
]


def lead_label(minutes: int) -> str:
    """A lead as people say it: "2 days", "3 hours", "90 minutes"."""
    size, unit = next(
        (size, unit) for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")) if minutes % size == 0
    )
    count = minutes // size
    return f"{count} {unit}{'s' if count != 1 else ''}"


LEAD_CHOICES = [("", "The group’s default (usually 3 days)")] + [
    (str(days * 24 * 60), f"{lead_label(days * 24 * 60)} before") for days in range(1, 8)
]


class PreferencesForm(forms.Form):
    """The preferences page: what the me/ API sets, as a form."""

    timezone = forms.ChoiceField(
        label="Your time zone",
        choices=TIMEZONE_CHOICES,
        required=False,
        help_text="Times on the pages and in reminder emails are shown in this zone.",
    )
    reading_lead_minutes = forms.TypedChoiceField(
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
    email_nudge = forms.BooleanField(
        label="Nudge me before a session when I have read less than half of its reading", required=False
    )
    email_summary = forms.BooleanField(
        label="Email me a summary after each session (who came, the questions and answers, what is next)",
        required=False,
    )
    email_brief = forms.BooleanField(
        label="When I lead a session, email me the facilitator's brief before it (who has read, who got stuck)",
        required=False,
    )
    email_reply = forms.ChoiceField(
        label="Replies to my notes and threads", choices=Delivery.choices, initial=Delivery.NOW, required=False
    )
    email_mention = forms.ChoiceField(
        label="Mentions of me", choices=Delivery.choices, initial=Delivery.NOW, required=False
    )
    email_answer = forms.ChoiceField(
        label="Answers to questions I proposed", choices=Delivery.choices, initial=Delivery.NOW, required=False
    )
    digest_hour = forms.TypedChoiceField(
        label="Send the daily digest at",
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        coerce=int,
        empty_value=None,
        initial=8,
        required=False,
        help_text="In your time zone above (UTC if you chose none).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A lead set through the API need not be a whole number of days: offer it as it is, so saving
        # the page keeps it.
        lead = self.initial.get("reading_lead_minutes")
        field = self.fields["reading_lead_minutes"]
        if lead and str(lead) not in dict(field.choices):
            field.choices = [*field.choices, (str(lead), f"{lead_label(lead)} before")]

    def clean(self):
        # A form posted without the notification choices (an older page) leaves them as they are.
        cleaned = super().clean()
        for field in ("email_reply", "email_mention", "email_answer", "digest_hour"):
            if cleaned.get(field) in ("", None):
                cleaned.pop(field, None)
        return cleaned
