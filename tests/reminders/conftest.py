"""Reminders fixtures: a fixed clock, a session planned through the services, and helpers to read the outbox."""

from datetime import UTC, datetime, timedelta

import pytest

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.questions import question_create
from reminders.models import Reminder
from sessions_app.services.schedule import session_create

from ..readings.conftest import SAMPLE, at
from .realparts import SmtpRecorder

# A Friday at noon UTC; the session is the next Thursday evening in New York (EST, UTC−5).
NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
STARTS = datetime(2030, 3, 8, 0, 0, tzinfo=UTC)  # Thursday 7 March 2030, 19:00 EST
READING_DUE = STARTS - timedelta(days=3)
STARTING_DUE = STARTS - timedelta(hours=2)


@pytest.fixture
def clock(time_machine):
    """Time stands still at NOW until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


OPENING_QUESTION = "What did you expect the text to argue?"


@pytest.fixture
def session(world, clock):
    """A session created through the service, so its reminders are planned as in production.

    It has one accepted question, so its `reading` reminder has something to say.
    """
    session = session_create(
        group=world.group,
        title="Reading Capital, week one",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(minutes=90),
        timezone="America/New_York",
        location="Library, room 2",
        online_url="https://meet.example.org/capital",
    )
    question_create(session=session, author=world.organizer, prompt=OPENING_QUESTION, kind="opening")
    return session


@pytest.fixture
def readings_and_questions(world, session):
    """Passages 10–25 of the sample essay to read, one accepted, one proposed and one rejected question."""
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    start, end = (essay.passages.get(position=p, retired=False) for p in (10, 25))
    assignment = assignment_create(
        session=session, text=essay, start_passage=start, end_passage=end, instructions="Mark one claim you doubt."
    )
    accepted = question_create(
        session=session,
        author=world.organizer,
        prompt="What does the essay mean by “proletarian dictatorship”?",
        minutes=15,
        facilitator_notes="Steer towards §12.",
    )
    question_create(session=session, author=world.member, prompt="Is this a proposal?", propose=True)
    return essay, assignment, accepted


@pytest.fixture
def essay(world, clock):
    """The sample essay in the world's group, with no session reading it (the notifications tests)."""
    return text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)


@pytest.fixture
def passage(essay):
    return at(essay, 12)


def outbox(**filters) -> set[tuple]:
    """The outbox as (username, kind, due_at, state) rows, comparable as a whole.

    The facilitator's brief (planned with the session for whoever leads it) is left out unless `kind` asks
    for it: tests/reminders/test_services_briefs.py looks at it.
    """
    rows = Reminder.objects.filter(**filters)
    if "kind" not in filters:
        rows = rows.exclude(kind="brief")
    return {
        (username, kind, due_at, state)
        for username, kind, due_at, state in rows.values_list("recipient__username", "kind", "due_at", "state")
    }


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) in this process that records what it accepts; Django sends to it."""
    server = SmtpRecorder()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()
