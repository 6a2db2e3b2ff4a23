"""A user's notification preferences."""

from django.core.exceptions import ValidationError
from django.db import transaction

from sessions_app.models import User
from sessions_app.validators import validate_timezone

from ..enums import PREFERENCE_FIELD
from ..models import NotificationPreference
from .planning import reminders_plan_for_user

PREFERENCE_FIELDS = (
    "timezone",
    "reading_lead_days",
    "email_reading",
    "email_starting",
    "email_changed",
    "email_cancelled",
)
# Fields that decide which reminder rows exist and when; the rest only change what an email says.
PLANNING_FIELDS = {"reading_lead_days", "email_reading", "email_starting"}


def preference_for(user: User) -> NotificationPreference:
    """The user's preferences; defaults until they change one (nothing is written by reading)."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)


@transaction.atomic
def preference_update(*, user: User, **fields) -> NotificationPreference:
    """Change preferences; the row is created on first change.

    When a change decides which reminders exist or when they are due (reading
    lead, reading/starting switches), the user's pending reminders are
    re-planned in the same transaction.
    """
    if unknown := set(fields) - set(PREFERENCE_FIELDS):
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed."})
    if fields.get("timezone"):
        try:
            validate_timezone(fields["timezone"])
        except ValidationError as error:
            raise ValidationError({"timezone": error.messages}) from None
    lead = fields.get("reading_lead_days")
    if lead is not None and not 1 <= lead <= 7:
        raise ValidationError({"reading_lead_days": "Choose between 1 and 7 days."})
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    changed = {key for key, value in fields.items() if getattr(preference, key) != value}
    for key, value in fields.items():
        setattr(preference, key, value)
    preference.save()
    if changed & PLANNING_FIELDS:
        reminders_plan_for_user(user=user)
    return preference


@transaction.atomic
def preference_unsubscribe(*, user: User, kind: str) -> NotificationPreference:
    """Switch off one kind of email (the one-click unsubscribe). Idempotent."""
    if kind not in PREFERENCE_FIELD:
        raise ValidationError({"kind": f"“{kind}” is not a kind of reminder."})
    return preference_update(user=user, **{PREFERENCE_FIELD[kind]: False})
