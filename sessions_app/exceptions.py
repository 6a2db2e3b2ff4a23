"""Domain errors that are not plain validation failures."""

from core.exceptions import Gone


class InvitationUnavailable(Gone):
    """The invitation was used up, revoked or has expired (HTTP 410)."""
