"""Who may do what (DESIGN.md, "Who may do what"), as plain predicates.

Seeing is decided by the selectors (404 for outsiders); these decide changing
(403 for a member who may see but not change).
"""

from .models import Membership, Session


def can_manage_group(membership: Membership | None) -> bool:
    """Members, invitations, group settings, hiding notes, series."""
    return membership is not None and membership.is_organizer


def has_facilitator_rights(membership: Membership | None) -> bool:
    """Organizers and facilitators: facilitator-only notes and question notes."""
    return membership is not None and membership.has_facilitator_rights


def can_create_session(membership: Membership | None) -> bool:
    return can_manage_group(membership)


def can_edit_session(membership: Membership | None, session: Session) -> bool:
    """Organizers edit every session of the group; a facilitator edits only those listing them."""
    if membership is None or membership.group_id != session.group_id:
        return False
    if membership.is_organizer:
        return True
    return membership.has_facilitator_rights and any(
        user.pk == membership.user_id for user in session.facilitators.all()
    )
