"""Outbox dedupe keys: the name of one email, so planning it twice (even in two transactions at once) keeps one row."""

from datetime import UTC, datetime


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_email_key(*, kind: str, session_id: int, recipient_id: int, starts_at: datetime) -> str:
    """An email about one session at one start time: at most one per kind and person."""
    return f"{kind}:session-{session_id}:user-{recipient_id}:{_stamp(starts_at)}"


def batch_email_key(*, kind: str, recipient_id: int, window_start: datetime, spill: int = 0) -> str:
    """The notifications email of one kind gathering what happened in one window (a day, for the digest).

    `spill` counts on when the window's email was already taken by a worker
    before a late notification could join it: that one goes out in the next.
    """
    return f"{kind}:user-{recipient_id}:{_stamp(window_start)}" + (f":{spill}" if spill else "")
