"""Domain errors that are not plain validation failures."""


class InvitationUnavailable(Exception):
    """The invitation was used up, revoked or has expired (HTTP 410)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
