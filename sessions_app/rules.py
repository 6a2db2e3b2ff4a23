"""Who may change groups, invitations, series and sessions (DESIGN.md, "Who may do what").

Each rule is checked against a `core.rules.Target` (the requester's membership
in the object's group, and the object); seeing is the selectors' job (404).
"""

import rules

from core.rules import declare


@rules.predicate
def is_organizer(user, target) -> bool:
    """Members, invitations, group settings, hiding notes, series."""
    return target.membership is not None and target.membership.is_organizer


def facilitates(membership) -> bool:
    """Organizers and facilitators (for what a role lets you see, e.g. facilitator-only notes and question notes)."""
    return membership is not None and membership.has_facilitator_rights


@rules.predicate
def has_facilitator_rights(user, target) -> bool:
    return facilitates(target.membership)


@rules.predicate
def leads_session(user, target) -> bool:
    """Organizers lead every session of the group; a facilitator only those listing them."""
    membership, session = target.membership, target.obj
    if membership is None or membership.group_id != session.group_id:
        return False
    if membership.is_organizer:
        return True
    return membership.has_facilitator_rights and any(
        person.pk == membership.user_id for person in session.facilitators.all()
    )


CHANGE_GROUP = declare("sessions_app.change_group", is_organizer, "Only organizers can change the group's settings.")
CHANGE_MEMBER = declare(
    "sessions_app.change_member", is_organizer, "Only organizers can change roles or remove members."
)
MANAGE_INVITATIONS = declare(
    "sessions_app.manage_invitations", is_organizer, "Only organizers can see and create invitations."
)
REVOKE_INVITATION = declare("sessions_app.revoke_invitation", is_organizer, "Only organizers can revoke invitations.")
CREATE_SERIES = declare("sessions_app.create_series", is_organizer, "Only organizers can create a series.")
CHANGE_SERIES = declare("sessions_app.change_series", is_organizer, "Only organizers can edit a series.")
CREATE_SESSION = declare("sessions_app.create_session", is_organizer, "Only organizers can schedule sessions.")
CHANGE_SESSION = declare(
    "sessions_app.change_session", leads_session, "Only organizers and this session's facilitators can edit it."
)
CANCEL_SESSION = declare(
    "sessions_app.cancel_session", leads_session, "Only organizers and this session's facilitators can cancel it."
)
MARK_ATTENDANCE = declare(
    "sessions_app.mark_attendance",
    leads_session,
    "Only organizers and this session's facilitators see and mark attendance.",
)
