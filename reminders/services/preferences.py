"""A user's notification preferences."""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.services import UNSET, given, model_update
from core.validators import validate_timezone
from sessions_app.models import User
from sessions_app.services.schedule import check_leads

from ..enums import NOTIFICATION_KINDS, PREFERENCE_FIELD, Delivery, ReminderKind
from ..models import NotificationPreference
from .outbox import outbox_replan_digest
from .planning import reminders_plan_for_user

PREFERENCE_FIELDS = (
    "timezone",
    "reading_lead_minutes",
    "email_reading",
    "email_starting",
    "email_changed",
    "email_cancelled",
    "email_nudge",
    "email_summary",
    "email_brief",
    "email_reply",
    "email_mention",
    "email_answer",
    "digest_hour",
)
DELIVERY_FIELDS = tuple(PREFERENCE_FIELD[kind] for kind in NOTIFICATION_KINDS)
# Fields that decide which reminder rows exist and when; the rest only change what an email says.
PLANNING_FIELDS = {"reading_lead_minutes", "email_reading", "email_starting", "email_brief"}
# Fields that decide when the pending daily digest is due.
DIGEST_FIELDS = {"digest_hour", "timezone"}


def email_switched_on(preference: NotificationPreference | None, kind: str) -> bool:
    """Whether emails of `kind` go out to a person with these preferences (None: the defaults).

    A notification kind is on unless it is `off`; the digest is on while any kind goes into it.
    """
    preference = preference or NotificationPreference()
    if kind == ReminderKind.DIGEST:
        return any(getattr(preference, field) == Delivery.DIGEST for field in DELIVERY_FIELDS)
    value = getattr(preference, PREFERENCE_FIELD[kind])
    return value != Delivery.OFF if kind in NOTIFICATION_KINDS else bool(value)


def preference_for(user: User) -> NotificationPreference:
    """The user's preferences; defaults until they change one (nothing is written by reading)."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)


@transaction.atomic
def preference_update(
    *,
    user: User,
    timezone: str = UNSET,
    reading_lead_minutes: int | None = UNSET,
    email_reading: bool = UNSET,
    email_starting: bool = UNSET,
    email_changed: bool = UNSET,
    email_cancelled: bool = UNSET,
    email_nudge: bool = UNSET,
    email_summary: bool = UNSET,
    email_brief: bool = UNSET,
    email_reply: str = UNSET,
    email_mention: str = UNSET,
    email_answer: str = UNSET,
    digest_hour: int = UNSET,
) -> NotificationPreference:
    """Change preferences (each one given; UNSET leaves it); the row is created on first change.

    `reading_lead_minutes` (None: the session's or group's lead) follows the
    rule of group and session leads: 60 minutes to 14 days. When a change
    decides which reminders exist or when they are due (reading lead,
    reading/starting/brief switches), the user's pending reminders are re-planned
    in the same transaction.
    """
    fields = given(
        timezone=timezone,
        reading_lead_minutes=reading_lead_minutes,
        email_reading=email_reading,
        email_starting=email_starting,
        email_changed=email_changed,
        email_cancelled=email_cancelled,
        email_nudge=email_nudge,
        email_summary=email_summary,
        email_brief=email_brief,
        email_reply=email_reply,
        email_mention=email_mention,
        email_answer=email_answer,
        digest_hour=digest_hour,
    )
    if fields.get("timezone"):
        try:
            validate_timezone(fields["timezone"])
        except ValidationError as error:
            raise ValidationError({"timezone": error.messages}) from None
    check_leads(fields.get("reading_lead_minutes"), None)
    for field in DELIVERY_FIELDS:
        if field in fields and fields[field] not in Delivery.values:
            raise ValidationError({field: f"Choose one of: {', '.join(Delivery.values)}."})
    hour = fields.get("digest_hour", 0)
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        raise ValidationError({"digest_hour": "Choose an hour from 0 to 23."})
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    changed = set(model_update(instance=preference, data=fields))
    if changed & PLANNING_FIELDS:
        reminders_plan_for_user(user=user)
    if changed & DIGEST_FIELDS:
        outbox_replan_digest(user=user)
    return preference


@transaction.atomic
def preference_unsubscribe(*, user: User, kind: str) -> NotificationPreference:
    """Switch off one kind of email (the one-click unsubscribe). Idempotent.

    The digest is switched off by switching off every kind that goes into it.
    """
    if kind == ReminderKind.DIGEST:
        preference = preference_for(user)
        off = {field: Delivery.OFF for field in DELIVERY_FIELDS if getattr(preference, field) == Delivery.DIGEST}
        return preference_update(user=user, **off)
    if kind not in PREFERENCE_FIELD:
        raise ValidationError({"kind": f"“{kind}” is not a kind of email."})
    return preference_update(
        user=user, **{PREFERENCE_FIELD[kind]: Delivery.OFF if kind in NOTIFICATION_KINDS else False}
    )
