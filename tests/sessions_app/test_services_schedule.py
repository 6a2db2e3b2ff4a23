"""sessions_app/services/schedule.py, called directly (the API and pages that use it are tested elsewhere)."""

import pytest

from sessions_app.models import Session
from sessions_app.services.schedule import session_reading_minutes_set
from tests.factories import SessionFactory


def test_session_reading_minutes_set_records_the_preparation_time_and_nothing_else(db):
    session = SessionFactory()
    before = Session.objects.values().get(pk=session.pk)

    session_reading_minutes_set(session_id=session.pk, minutes=42)

    after = Session.objects.values().get(pk=session.pk)
    assert after == {**before, "reading_minutes": 42}  # no SEQUENCE, no version, no updated_at


def test_session_reading_minutes_set_refuses_a_negative_time(db):
    session = SessionFactory()

    with pytest.raises(ValueError, match="cannot be negative"):
        session_reading_minutes_set(session_id=session.pk, minutes=-1)

    assert Session.objects.get(pk=session.pk).reading_minutes == 0
