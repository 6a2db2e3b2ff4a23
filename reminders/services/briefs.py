"""The facilitator's brief by email: who may still get it when it is sent.

Brief rows are planned with the session's other reminders (`planning._desired_rows`: the facilitators it
lists, else the group's organizers, BRIEF_HOURS_BEFORE it starts; moved or dropped when the session, its
facilitators or a preference change). At sending time the dispatcher applies the session emails' checks
(started, moved, cancelled, declined, switched off, left) and these, then builds the brief with the
recipient's own rights (`readings.brief.facilitator_brief`), so it holds only what they may see then.
"""

from collections.abc import Sequence

from sessions_app.models import Membership
from sessions_app.rules import facilitates

from ..enums import ReminderKind
from ..models import Reminder


def brief_memberships(reminders: Sequence[Reminder]) -> dict[tuple[int, int], Membership]:
    """(group id, user id) → membership, for the recipients of the brief rows among `reminders` (one query)."""
    rows = [reminder for reminder in reminders if reminder.kind == ReminderKind.BRIEF]
    if not rows:
        return {}
    memberships = Membership.objects.filter(
        group_id__in={row.session.group_id for row in rows}, user_id__in={row.recipient_id for row in rows}
    ).select_related("group")
    return {(one.group_id, one.user_id): one for one in memberships}


def brief_skip_reason(membership: Membership | None) -> str | None:
    """Why a brief must not go to this recipient now, or None to send it."""
    if membership is None:
        return "The recipient is no longer a member of the group."
    if not facilitates(membership):
        return "The recipient no longer has facilitator rights in the group: the brief is for facilitators."
    return None
