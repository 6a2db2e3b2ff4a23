"""Who may change readings (DESIGN.md, "Who may do what"); seeing is the selectors' job."""

from sessions_app.models import Membership
from sessions_app.permissions import has_facilitator_rights


def can_import_texts(membership: Membership | None) -> bool:
    """Organizers and facilitators bring texts in and import their revisions."""
    return has_facilitator_rights(membership)
