"""Nudges: the day before a session, members who have read too little of its reading get one short email.

The clock is a time machine; the dispatcher runs in this process (the worker wiring is the same as for the
other reminders, tested in test_worker.py).
"""

from datetime import timedelta

import pytest
from django.core import mail

from readings.models import Passage, PassageRead
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.progress import progress_record
from reminders.models import Reminder
from reminders.services.dispatch import reminders_dispatch_due
from reminders.services.nudges import reminders_plan_nudges
from reminders.services.preferences import preference_update
from sessions_app.services.schedule import rsvp_set

from ..factories import MembershipFactory, UserFactory
from .conftest import STARTS

pytestmark = pytest.mark.django_db

NUDGE_DUE = STARTS - timedelta(hours=24)
TEN_WORDS = "one two three four five six seven eight nine {n}."


@pytest.fixture
def circle(world, session):
    """Four required passages of ten words; people who read all, little, nothing, declined, said maybe, opted out."""
    content = "Title line\n\n" + "\n\n".join(TEN_WORDS.format(n=n) for n in range(4))
    text = text_import(group=world.group, created_by=world.organizer, content=content)
    p = {passage.position: passage for passage in text.passages.all()}
    assignment_create(session=session, text=text, start_passage=p[2], end_passage=p[5])
    people = {}
    for name in ("finished", "half", "quarter", "nothing", "declined", "maybe", "opted_out", "undecided"):
        people[name] = UserFactory(username=name, email=f"{name}@example.org")
        MembershipFactory(group=world.group, user=people[name])
    for name in ("finished", "half", "quarter", "nothing", "opted_out"):
        rsvp_set(session=session, user=people[name], status="going")
    rsvp_set(session=session, user=people["declined"], status="declined")
    rsvp_set(session=session, user=people["maybe"], status="maybe")
    reads = {"finished": [2, 3, 4, 5], "half": [2, 3], "quarter": [2]}
    for name, positions in reads.items():
        progress_record(user=people[name], session=session, passages=[p[n] for n in positions])
    preference_update(user=people["opted_out"], email_nudge=False)
    return people


def nudged() -> list[str]:
    return sorted(message.to[0].split("<")[1].rstrip(">") for message in mail.outbox if "% read for" in message.subject)


def test_exactly_the_members_below_the_threshold_get_one_nudge(world, session, circle, clock):
    """Half read is not below half; the world's organizer, facilitator and member have read nothing."""
    clock.move_to(NUDGE_DUE - timedelta(minutes=1), tick=False)
    reminders_dispatch_due(now=NUDGE_DUE - timedelta(minutes=1))  # the reading reminders go out
    early = nudged()
    clock.move_to(NUDGE_DUE, tick=False)

    reminders_dispatch_due(now=NUDGE_DUE)
    sent = nudged()
    again = reminders_dispatch_due(now=NUDGE_DUE + timedelta(minutes=1))

    assert early == []
    assert sent == [
        "facilitator@example.org",
        "member@example.org",
        "nothing@example.org",
        "organizer@example.org",
        "quarter@example.org",
        "undecided@example.org",
    ]
    assert again.sent == 0
    assert nudged() == sent
    assert Reminder.objects.filter(kind="nudge").count() == 6


def test_nudge_says_how_far_they_are_and_links_to_the_reader(world, session, circle, clock):
    clock.move_to(NUDGE_DUE, tick=False)

    reminders_dispatch_due(now=NUDGE_DUE)

    message = next(message for message in mail.outbox if message.to[0].endswith("<quarter@example.org>"))
    assert message.subject == "25% read for “Reading Capital, week one” (Thu 7 Mar, 19:00)"
    assert "You have read 25% of the reading so far (30 words to go, about 1 minute)." in message.body
    assert (
        f"http://testserver/sessions/{session.id}/read/" in message.body
        or f"/sessions/{session.id}/read/" in message.body
    )
    html = message.alternatives[0][0]
    assert 'aria-label="25% read"' in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_someone_who_finishes_before_it_goes_out_is_not_nudged(world, session, circle, clock):
    clock.move_to(NUDGE_DUE, tick=False)
    reminders_plan_nudges(now=NUDGE_DUE)
    finished = PassageRead.objects.filter(user=circle["finished"]).values("passage")
    progress_record(user=circle["quarter"], session=session, passages=list(Passage.objects.filter(pk__in=finished)))

    reminders_dispatch_due(now=NUDGE_DUE)

    assert "quarter@example.org" not in nudged()
    assert Reminder.objects.get(kind="nudge", recipient=circle["quarter"]).state == "skipped"


def test_no_nudge_without_required_reading(world, session, clock):
    clock.move_to(NUDGE_DUE, tick=False)

    reminders_dispatch_due(now=NUDGE_DUE)

    assert not Reminder.objects.filter(kind="nudge").exists()
