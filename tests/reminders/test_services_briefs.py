"""The facilitator's brief by email: planned with the session, BRIEF_HOURS_BEFORE it starts, to the facilitators
it lists (its organizers when it lists none); moved with the session; sent with what each may see then.

The clock is a time machine and the dispatcher runs in this process; the worker, Redis and aiosmtpd carry it
in tests/reminders/test_worker.py.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from readings.services.notes import note_create
from readings.services.progress import progress_record
from reminders.emails import message_id, unsubscribe_url
from reminders.models import NotificationPreference, Reminder
from reminders.services.dispatch import reminders_dispatch_due
from reminders.services.preferences import preference_update
from sessions_app.services.schedule import rsvp_set, session_update

from ..factories import MembershipFactory, UserFactory
from .conftest import NOW, STARTS

pytestmark = pytest.mark.django_db

BRIEF_DUE = STARTS - timedelta(hours=24)


def briefs(**filters) -> set[tuple]:
    return set(Reminder.objects.filter(kind="brief", **filters).values_list("recipient__username", "due_at", "state"))


def sent_briefs() -> dict[str, mail.EmailMultiAlternatives]:
    return {
        message.to[0].split("<")[1].rstrip(">"): message
        for message in mail.outbox
        if message.extra_headers["Message-ID"].split(".")[1] == "brief"
    }


def test_the_brief_goes_to_the_organizers_of_a_session_without_facilitators(world, session):
    assert briefs() == {("organizer", BRIEF_DUE, "pending")}


def test_naming_facilitators_sends_the_brief_to_them_instead_and_moving_the_session_moves_it(world, session, settings):
    session_update(session=session, facilitators=[world.facilitator.pk])
    assert briefs() == {("facilitator", BRIEF_DUE, "pending")}

    session_update(session=session, starts_at=STARTS + timedelta(days=1), ends_at=STARTS + timedelta(days=1, hours=2))

    assert briefs() == {("facilitator", BRIEF_DUE + timedelta(days=1), "pending")}
    assert Reminder.objects.get(kind="brief").for_starts_at == STARTS + timedelta(days=1)


def test_the_lead_time_is_a_setting(world, clock, settings):
    from sessions_app.services.schedule import session_create

    settings.BRIEF_HOURS_BEFORE = 6
    session = session_create(group=world.group, title="Later", starts_at=STARTS, ends_at=STARTS + timedelta(hours=1))

    assert Reminder.objects.get(kind="brief", session=session).due_at == STARTS - timedelta(hours=6)


def test_switching_briefs_off_or_declining_drops_the_pending_brief(world, session):
    session_update(session=session, facilitators=[world.facilitator.pk, world.organizer.pk])
    preference_update(user=world.organizer, email_brief=False)
    rsvp_set(session=session, user=world.facilitator, status="declined")

    assert briefs() == set()


def test_the_brief_email_lists_who_has_read_and_where_members_got_stuck_never_a_private_note(
    world, session, readings_and_questions, clock
):
    essay, _assignment, _question = readings_and_questions
    session_update(session=session, facilitators=[world.facilitator.pk])
    absent = UserFactory(username="absent", display_name="Absent Reader")
    MembershipFactory(group=world.group, user=absent)
    p14 = essay.passages.get(position=14, retired=False)
    progress_record(user=world.member, session=session, passages=[p14])
    note_create(author=world.member, passage=p14, body="What is meant here?", visibility="group", tags=["question"])
    note_create(author=absent, passage=p14, body="Absent's private worry?", visibility="private")

    clock.move_to(BRIEF_DUE + timedelta(minutes=1), tick=False)
    reminders_dispatch_due(now=BRIEF_DUE + timedelta(minutes=1))
    reminders_dispatch_due(now=BRIEF_DUE + timedelta(minutes=2))

    sent = sent_briefs()
    assert list(sent) == ["facilitator@example.org"]
    message = sent["facilitator@example.org"]
    body, html = message.body, message.alternatives[0][0]
    assert message.subject.startswith("Your brief for “Reading Capital, week one”")
    assert re.search(r"^- Member: [1-9]\d?% · in progress$", body, re.M)
    assert "- Absent Reader: 0% · not opened" in body
    assert "1 note asking" in body.split("Where members got stuck:", 1)[1].split("Questions", 1)[0]
    assert "Is this a proposal? (Member)" in body
    assert "private worry" not in body + html
    assert 'aria-label="Heat 100%"' in html
    row = Reminder.objects.get(kind="brief")
    assert row.state == "sent"
    assert message.extra_headers["Message-ID"] == message_id(row)
    unsubscribe = unsubscribe_url(world.facilitator.pk, "brief")
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    Client().post(unsubscribe.removeprefix("http://127.0.0.1:8000"))
    assert NotificationPreference.objects.get(user=world.facilitator).email_brief is False


def test_with_the_per_member_view_off_the_brief_email_gives_totals_and_names_nobody(
    world, session, readings_and_questions, clock
):
    from sessions_app.services.groups import group_update

    essay, _assignment, _question = readings_and_questions
    session_update(session=session, facilitators=[world.facilitator.pk])
    absent = UserFactory(username="absent", display_name="Absent Reader")
    MembershipFactory(group=world.group, user=absent)
    progress_record(user=world.member, session=session, passages=[essay.passages.get(position=14, retired=False)])
    group_update(group=world.group, member_progress_visible=False)

    clock.move_to(BRIEF_DUE + timedelta(minutes=1), tick=False)
    reminders_dispatch_due(now=BRIEF_DUE + timedelta(minutes=1))

    message = sent_briefs()["facilitator@example.org"]
    body, html = message.body, message.alternatives[0][0]
    assert "0 finished · 1 in progress · 3 not opened" in body
    assert "0 finished · 1 in progress · 3 not opened" in html
    assert "Absent Reader" not in body + html
    assert not re.search(r"^- Member: ", body, re.M)


def test_a_brief_not_sent_before_the_session_starts_is_skipped(world, session, clock):
    clock.move_to(STARTS + timedelta(minutes=1), tick=False)
    reminders_dispatch_due(now=STARTS + timedelta(minutes=1))

    assert briefs() == {("organizer", BRIEF_DUE, "skipped")}
    assert sent_briefs() == {}


def test_someone_who_lost_facilitator_rights_gets_no_brief(world, session, clock):
    from sessions_app.services.groups import membership_change_role

    session_update(session=session, facilitators=[world.facilitator.pk])
    membership_change_role(membership=world.facilitator.memberships.get(), role="member")
    reminders_dispatch_due(now=NOW + timedelta(days=6))

    assert briefs() == {("facilitator", BRIEF_DUE, "skipped")}
    assert Reminder.objects.get(kind="brief").last_error.startswith("The recipient no longer has facilitator rights")


def test_the_brief_email_shows_a_mention_by_the_display_name_now_and_keeps_it_inert(
    world, session, readings_and_questions, clock
):
    from sessions_app.services.accounts import profile_update

    essay, _assignment, question = readings_and_questions
    p12 = essay.passages.get(position=12, retired=False)
    note_create(
        author=world.organizer, passage=p12, body="@member has the answer", visibility="group", question=question
    )
    profile_update(user=world.member, display_name="<script>alert(1)</script> Mira")

    clock.move_to(BRIEF_DUE + timedelta(minutes=1), tick=False)
    reminders_dispatch_due(now=BRIEF_DUE + timedelta(minutes=1))

    message = sent_briefs()["organizer@example.org"]
    html = message.alternatives[0][0]
    assert "   - Organizer on §12: @<script>alert(1)</script> Mira has the answer\n" in message.body
    assert "@&lt;script&gt;alert(1)&lt;/script&gt; Mira has the answer" in html
    assert "@member" not in message.body + html
    assert "<script>" not in html
