"""Errors services raise that are not plain validation failures, each with the HTTP answer the API gives."""


class Gone(Exception):
    """What was asked for existed but cannot be used any more (HTTP 410); `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
