"""The generalised outbox: emails without a session, their events, dedupe keys, and kinds that go stale."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client

from readings.services.notes import note_create, note_delete, note_set_hidden
from reminders.emails import message_id, unsubscribe_url
from reminders.models import NotificationPreference, Reminder
from reminders.services.dispatch import claim_due_reminders, reminders_dispatch_due
from reminders.services.outbox import digest_due_at
from reminders.services.planning import reminders_plan_for_cancellation, reminders_plan_for_session
from reminders.services.preferences import preference_update
from sessions_app.services.schedule import session_cancel

from ..readings.conftest import SAMPLE, at
from .conftest import NOW, STARTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(world, clock):
    """The member's group note on passage 12 of the essay, and two replies by the facilitator.

    Writing the replies (through the service) tells the member and puts that into the outbox.
    """
    from readings.services.importing import text_import

    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    passage = at(essay, 12)
    note = note_create(author=world.member, passage=passage, body="The *claim* here is odd.", visibility="group")
    replies = [
        note_create(author=world.facilitator, passage=passage, body=body, parent=note)
        for body in ("I read it the other way.", "Compare passage 14.")
    ]
    return note, replies


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_replies_within_the_batching_window_go_out_as_one_email_with_a_stable_message_id(world, thread, clock):
    note, _replies = thread
    (row,) = Reminder.objects.filter(recipient=world.member)

    before_due = reminders_dispatch_due(now=NOW + timedelta(seconds=299))
    at_due = reminders_dispatch_due(now=NOW + timedelta(seconds=300))

    assert (before_due.sent, at_due.sent) == (0, 1)
    assert row.session_id is None
    assert row.events.count() == 2
    (email,) = mail.outbox
    assert email.to == ["Member <member@example.org>"]
    assert email.subject == "2 new replies to you"
    assert "I read it the other way." in email.body
    assert "Compare passage 14." in email.body
    assert email.extra_headers["Message-ID"] == message_id(row) == f"<reminder-{row.pk}.reply@127.0.0.1>"
    assert f"/texts/{note.passage.text_id}/#p-12" in email.body  # the essay is read in no session
    assert email.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url(world.member.pk, 'reply')}>"


def test_one_click_unsubscribe_from_replies_switches_them_off_and_the_pending_email_is_skipped(world, thread):
    response = Client(enforce_csrf_checks=True).post(
        path_of(unsubscribe_url(world.member.pk, "reply")),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    result = reminders_dispatch_due(now=NOW + timedelta(minutes=10))

    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=world.member).email_reply == "off"
    assert (result.sent, result.skipped, mail.outbox) == (0, 1, [])


def test_a_notification_never_joins_an_email_a_worker_has_taken(world, thread):
    note, _replies = thread
    (taken,) = claim_due_reminders(now=NOW + timedelta(minutes=5))
    note_create(author=world.facilitator, passage=note.passage, body="A third thought.", parent=note)

    rows = list(Reminder.objects.filter(recipient=world.member).order_by("pk"))

    assert rows[0].pk == taken
    assert [row.events.count() for row in rows] == [2, 1]
    assert len({row.dedupe_key for row in rows}) == 2


@pytest.mark.parametrize("how", ["hidden", "deleted"])
def test_an_email_whose_notes_went_out_of_view_before_sending_is_skipped_not_sent(world, thread, how):
    _, replies = thread
    for reply in replies:
        if how == "hidden":
            note_set_hidden(note=reply, hidden=True, by=world.organizer)
        else:
            note_delete(note=reply)

    result = reminders_dispatch_due(now=NOW + timedelta(minutes=10))

    assert (result.sent, result.skipped, mail.outbox) == (0, 1, [])
    assert Reminder.objects.get(recipient=world.member).last_error.startswith("Nothing left to tell")


def test_a_cancellation_notice_still_goes_out_after_the_start_but_reminders_do_not(world, session, clock):
    clock.move_to(STARTS - timedelta(minutes=1), tick=False)
    session_cancel(session=session)

    result = reminders_dispatch_due(now=STARTS + timedelta(minutes=1))

    assert result.sent == 3
    assert {email.subject.split(":")[0] for email in mail.outbox} == {"Cancelled"}


def test_planning_twice_keeps_one_row_per_dedupe_key(world, session):
    reminders_plan_for_session(session=session)
    reminders_plan_for_cancellation(session=session, notify=False)
    reminders_plan_for_session(session=session)
    reminders_plan_for_session(session=session)

    keys = list(Reminder.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys)) == 7  # each one's reading and starting reminder, the organizer's brief
    assert f"starting:session-{session.pk}:user-{world.member.pk}:20300308T000000Z" in keys


LONDON = "Europe/London"


@pytest.mark.parametrize(
    ("now", "hour", "due"),
    [
        # Winter: 08:00 in London is 08:00 UTC; asked at 09:00 it is tomorrow's.
        (datetime(2030, 3, 29, 7, 0, tzinfo=UTC), 8, datetime(2030, 3, 29, 8, 0, tzinfo=UTC)),
        (datetime(2030, 3, 29, 9, 0, tzinfo=UTC), 8, datetime(2030, 3, 30, 8, 0, tzinfo=UTC)),
        # The clocks go forward on Sunday 31 March 2030 at 01:00 UTC: 08:00 BST is 07:00 UTC.
        (datetime(2030, 3, 30, 9, 0, tzinfo=UTC), 8, datetime(2030, 3, 31, 7, 0, tzinfo=UTC)),
        # 01:00 does not exist that day in London: the digest comes at the end of the gap (02:00 BST).
        (datetime(2030, 3, 30, 9, 0, tzinfo=UTC), 1, datetime(2030, 3, 31, 1, 0, tzinfo=UTC)),
        # The clocks go back on Sunday 27 October 2030: 01:00 happens twice, the digest comes once, at the first.
        (datetime(2030, 10, 26, 12, 0, tzinfo=UTC), 1, datetime(2030, 10, 27, 0, 0, tzinfo=UTC)),
        (datetime(2030, 10, 27, 0, 30, tzinfo=UTC), 1, datetime(2030, 10, 28, 1, 0, tzinfo=UTC)),
    ],
)
def test_digest_hour_is_the_local_hour_across_daylight_saving_changes(now, hour, due):
    assert digest_due_at(hour=hour, tzname=LONDON, now=now) == due


SATURDAY = datetime(2030, 3, 30, 9, 0, tzinfo=UTC)  # London's clocks go forward the next night, at 01:00 UTC


@pytest.fixture
def digest_reader(world, clock):
    """The member takes replies in a daily digest at 22:00 London time; a reply arrives on Saturday morning."""
    from readings.services.importing import text_import

    preference_update(user=world.member, email_reply="digest", timezone=LONDON, digest_hour=22)
    clock.move_to(SATURDAY, tick=False)
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    passage = at(essay, 12)
    note = note_create(author=world.member, passage=passage, body="The *claim* here is odd.", visibility="group")
    note_create(author=world.facilitator, passage=passage, body="I read it the other way.", parent=note)
    return note


def digests(user) -> list[tuple[datetime, str, int]]:
    rows = Reminder.objects.filter(recipient=user, kind="digest").order_by("due_at")
    return [(row.due_at, row.dedupe_key, row.events.count()) for row in rows]


def test_changing_the_digest_hour_moves_the_pending_digest_across_the_clock_change(world, digest_reader, clock):
    saturday_night = datetime(2030, 3, 30, 22, 0, tzinfo=UTC)  # 22:00 GMT
    assert digests(world.member) == [(saturday_night, f"digest:user-{world.member.pk}:20300330T220000Z", 1)]

    preference_update(user=world.member, digest_hour=8)

    sunday_morning = datetime(2030, 3, 31, 7, 0, tzinfo=UTC)  # 08:00 BST, the first 08:00 after the change
    assert digests(world.member) == [(sunday_morning, f"digest:user-{world.member.pk}:20300331T070000Z", 1)]
    # A reply later that day joins the moved digest: still one email, at the new hour.
    clock.move_to(SATURDAY + timedelta(hours=3), tick=False)
    note_create(author=world.facilitator, passage=digest_reader.passage, body="Compare 14.", parent=digest_reader)
    assert digests(world.member) == [(sunday_morning, f"digest:user-{world.member.pk}:20300331T070000Z", 2)]
    assert reminders_dispatch_due(now=saturday_night).sent == 0
    assert reminders_dispatch_due(now=sunday_morning - timedelta(seconds=1)).sent == 0
    assert reminders_dispatch_due(now=sunday_morning).sent == 1
    (email,) = mail.outbox
    assert email.subject == "Your daily digest: 2 new notifications"


def test_an_hour_lost_to_the_clock_change_moves_the_digest_to_the_end_of_the_gap(world, digest_reader):
    preference_update(user=world.member, digest_hour=1)  # 01:00 does not exist in London on 31 March 2030

    assert [due for due, _key, _events in digests(world.member)] == [datetime(2030, 3, 31, 1, 0, tzinfo=UTC)]


def test_changing_the_timezone_moves_the_pending_digest_to_the_hour_there(world, digest_reader):
    preference_update(user=world.member, timezone="America/New_York")  # still 22:00, now in New York (EDT)

    assert [due for due, _key, _events in digests(world.member)] == [datetime(2030, 3, 31, 2, 0, tzinfo=UTC)]


def test_a_digest_a_worker_has_claimed_is_not_moved(world, digest_reader):
    saturday_night = datetime(2030, 3, 30, 22, 0, tzinfo=UTC)
    (claimed_id,) = claim_due_reminders(now=saturday_night)

    preference_update(user=world.member, digest_hour=8)

    claimed = Reminder.objects.get(pk=claimed_id)
    assert (claimed.state, claimed.due_at) == ("sending", saturday_night)


def test_an_answer_email_names_the_question_by_its_number_among_the_accepted_ones(world, clock):
    from readings.services.assignments import assignment_create
    from readings.services.importing import text_import
    from readings.services.questions import question_create, question_decide

    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 14))
    question_create(session=world.session, author=world.organizer, prompt="Where do we start?")
    question_create(session=world.session, author=world.facilitator, prompt="Not this one.", propose=True)
    mine = question_create(
        session=world.session, author=world.member, prompt="Why did the alliance hold?", propose=True
    )
    question_decide(question=mine, accept=True)
    note_create(author=world.facilitator, passage=at(essay, 12), body="Land first.", visibility="group", question=mine)
    (row,) = Reminder.objects.filter(recipient=world.member)

    reminders_dispatch_due(now=row.due_at)

    (email,) = mail.outbox
    title = essay.title
    assert email.subject == f"Facilitator answered your question 2 on “{title}”"
    line = (
        f"Facilitator answered your question 2 (“Why did the alliance hold?”) in a note on “{title}” (Tuesday Readers)"
    )
    assert line + ":" in email.body
    assert line in email.alternatives[0].content.replace("&ldquo;", "“").replace("&rdquo;", "”")


@pytest.mark.parametrize("kind", ["reading", "starting", "changed", "cancelled", "nudge", "brief", "summary"])
@pytest.mark.parametrize("missing", ["session", "for_starts_at"])
def test_the_database_refuses_an_email_about_a_session_without_its_session_and_start(world, kind, missing):
    """Every kind about one session (the after-session summary too: it is built from the session and skipped
    when the session moved) is refused by the database without the session or the start it is about."""
    fields = {"session": world.session, "for_starts_at": world.session.starts_at, missing: None}

    with pytest.raises(IntegrityError, match="reminder_session_kind_has_session"), transaction.atomic():
        Reminder.objects.create(
            recipient=world.member, kind=kind, dedupe_key=f"{kind}:test", due_at=NOW, next_attempt_at=NOW, **fields
        )

    assert not Reminder.objects.exists()
