"""After-session summaries: planned when attendance is marked (or hours after the end), one per member, sent by the
dispatcher with what each recipient may see then, and expired rather than sent late.

The clock is a time machine; the dispatcher runs in this process (the worker, Redis and aiosmtpd carry it in
tests/browser/test_summary.py).
"""

import email
import email.policy
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from reminders.emails import message_id, unsubscribe_url
from reminders.models import NotificationPreference, Reminder
from reminders.services.dispatch import reminders_dispatch_due
from reminders.services.preferences import preference_update
from sessions_app.services.groups import group_update
from sessions_app.services.schedule import attendance_set, session_cancel

from ..factories import MembershipFactory, UserFactory
from ..readings.summary_circle import (
    ANSWER_FACILITATORS,
    ANSWER_HIDDEN,
    ANSWER_PRIVATE,
    ANSWER_SECOND,
    ANSWER_TOP,
    FOLLOW_FACILITATORS,
    FOLLOW_GROUP,
    FOLLOW_PRIVATE,
    NOT_FOLLOW,
    build_circle,
)
from .conftest import NOW

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


@pytest.fixture
def circle(world, clock):
    circle = build_circle(world, now=NOW)
    opted_out, no_address = UserFactory(username="opted_out"), UserFactory(username="no_address", email="")
    for person in (opted_out, no_address):
        MembershipFactory(group=world.group, user=person)
    preference_update(user=opted_out, email_summary=False)
    return circle


def summaries() -> dict[str, mail.EmailMultiAlternatives]:
    """The summary emails sent so far, by recipient address."""
    found = {}
    for message in mail.outbox:
        if message.extra_headers["Message-ID"].split(".")[1] == "summary":
            address = message.to[0].split("<")[1].rstrip(">")
            assert address not in found, f"two summaries to {address}"
            found[address] = message
    return found


def rows() -> set[tuple[str, str]]:
    return set(Reminder.objects.filter(kind="summary").values_list("recipient__username", "state"))


def mark(world, circle, *people):
    attendance_set(session=circle.held, marked_by=world.facilitator, present=[person.pk for person in people])


def test_marking_attendance_plans_one_summary_per_member_who_can_be_emailed_and_marking_again_sends_no_more(
    world, circle
):
    mark(world, circle, world.member, circle.second)
    planned = rows()
    mark(world, circle, world.member)  # corrected: the second reader left early
    reminders_dispatch_due(now=NOW)
    first = summaries()
    mark(world, circle, world.member, circle.second)
    reminders_dispatch_due(now=NOW + timedelta(minutes=5))

    members = {"organizer", "facilitator", "member", "second"}
    assert planned == {(name, "pending") for name in members}
    assert rows() == {(name, "sent") for name in members}
    assert sorted(first) == sorted(f"{name}@example.org" for name in members)
    assert len(summaries()) == 4
    assert Reminder.objects.filter(kind="summary").count() == 4
    # Built at sending time: the correction made before the dispatch is what the email says.
    assert "Who came: Member (1)." in first["organizer@example.org"].body


def test_each_recipient_gets_the_answers_and_follow_ups_they_may_see_and_never_a_private_note(world, circle):
    mark(world, circle, world.member, circle.second)
    reminders_dispatch_due(now=NOW)
    sent = summaries()
    member, facilitator = sent["member@example.org"].body, sent["facilitator@example.org"].body

    assert "1. What is the main claim?" in member
    assert "2. What follows from it?" in member
    assert "A proposal nobody accepted?" not in member
    assert f"   - Member (2 found it helpful): {ANSWER_TOP}" in member
    assert f"   - Second Reader (1 found it helpful): {ANSWER_SECOND}" in member
    assert f"- Second Reader on §3: {FOLLOW_GROUP}" in member
    assert ANSWER_FACILITATORS not in member
    assert FOLLOW_FACILITATORS not in member
    assert ANSWER_FACILITATORS in facilitator
    assert f"- Facilitator on §4: {FOLLOW_FACILITATORS}" in facilitator
    for body in sent.values():
        text = body.body + body.alternatives[0][0]
        for never in (ANSWER_PRIVATE, FOLLOW_PRIVATE, ANSWER_HIDDEN, NOT_FOLLOW):
            assert never not in text


def test_the_summary_email_says_who_came_the_questions_and_what_is_next_with_its_links(world, circle):
    mark(world, circle, world.member, circle.second)
    reminders_dispatch_due(now=NOW)
    message = summaries()["member@example.org"]

    assert message.subject == "After “October, week two”: who came, the questions, and what is next"
    assert message.body.startswith(
        "Hello Member,\n\nHow “October, week two” went (Tuesday Readers, Friday 1 March 2030, 10:00 GMT).\n\n"
        "Who came: Member, Second Reader (2).\n"
    )
    assert (
        "Next: “October, week three”, Friday 8 March 2030, 12:00 GMT.\n"
        "- Read Ten Days: §5–§7, about 1 min\n"
        f"Start reading: {SITE}/sessions/{circle.upcoming.pk}/read/\n"
    ) in message.body
    assert f"The summary on the site: {SITE}/sessions/{circle.held.pk}/summary/\n" in message.body
    html = message.alternatives[0][0]
    assert "Member, Second Reader" in html
    assert "What is the main claim?" in html


def test_a_group_that_prefers_counts_gets_how_many_came_without_names(world, circle):
    group_update(group=world.group, summary_attendance="counts")
    mark(world, circle, world.member, circle.second)
    reminders_dispatch_due(now=NOW)
    message = summaries()["organizer@example.org"]

    assert "Who came: 2 members.\n" in message.body
    assert "Second Reader (" not in message.body.split("The questions")[0]


def test_the_summary_has_a_stable_message_id_and_a_one_click_unsubscribe_for_summaries(world, circle):
    mark(world, circle, world.member)
    reminders_dispatch_due(now=NOW)
    message = summaries()["member@example.org"]
    row = Reminder.objects.get(kind="summary", recipient=world.member)
    wire = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    link = unsubscribe_url(world.member.pk, "summary")

    assert wire["Message-ID"] == message_id(row) == f"<reminder-{row.pk}.summary.session-{circle.held.pk}@127.0.0.1>"
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert wire["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    response = Client(enforce_csrf_checks=True).post(link.removeprefix(SITE), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=world.member).email_summary is False


def test_someone_who_switched_summaries_off_after_planning_gets_none(world, circle):
    mark(world, circle, world.member)
    preference_update(user=world.member, email_summary=False)
    reminders_dispatch_due(now=NOW)

    assert "member@example.org" not in summaries()
    assert Reminder.objects.get(kind="summary", recipient=world.member).last_error == (
        "The recipient switched off “After-session summary” emails."
    )


@pytest.mark.parametrize(
    ("after_end", "state"),
    [(timedelta(days=7) - timedelta(minutes=1), "sent"), (timedelta(days=7), "skipped")],
)
def test_a_summary_not_sent_within_seven_days_of_the_end_expires_instead_of_going_out_late(
    world, circle, clock, after_end, state
):
    mark(world, circle, world.member)
    moment = circle.held.ends_at + after_end
    clock.move_to(moment, tick=False)
    reminders_dispatch_due(now=moment)

    assert rows() == {(name, state) for name in ("organizer", "facilitator", "member", "second")}
    assert len(summaries()) == (4 if state == "sent" else 0)
    if state == "skipped":
        assert set(Reminder.objects.filter(kind="summary").values_list("last_error", flat=True)) == {
            "Expired: not sent within 7 days of the session's end."
        }


def test_without_attendance_the_summary_goes_out_the_set_hours_after_the_end_once(world, circle, clock, settings):
    settings.SUMMARY_HOURS_AFTER_END = 24
    early = circle.held.ends_at + timedelta(hours=23, minutes=59)
    due = circle.held.ends_at + timedelta(hours=24)
    clock.move_to(early, tick=False)
    reminders_dispatch_due(now=early)
    before = rows()
    clock.move_to(due, tick=False)
    reminders_dispatch_due(now=due)
    reminders_dispatch_due(now=due + timedelta(minutes=1))
    mark(world, circle, world.member)  # marked late: everyone already has theirs
    reminders_dispatch_due(now=due + timedelta(minutes=2))

    assert before == set()
    assert rows() == {(name, "sent") for name in ("organizer", "facilitator", "member", "second")}
    assert len(summaries()) == 4
    assert "Who came: no attendance was marked." in summaries()["member@example.org"].body


def test_no_summary_is_planned_for_a_cancelled_session_or_once_it_would_have_expired(world, circle, clock):
    circle.held = session_cancel(session=circle.held)
    mark(world, circle, world.member)
    late = circle.held.ends_at + timedelta(days=8)
    clock.move_to(late, tick=False)
    reminders_dispatch_due(now=late)

    assert rows() == set()
    assert summaries() == {}


def test_a_member_who_left_before_sending_gets_none(world, circle):
    mark(world, circle, world.member)
    world.group.memberships.filter(user=circle.second).delete()
    reminders_dispatch_due(now=NOW)

    assert "second@example.org" not in summaries()
    assert Reminder.objects.get(kind="summary", recipient=circle.second).state == "skipped"


def test_the_summary_email_shows_mentions_by_display_name_and_markdown_rendered_and_inert(world, circle):
    from readings.services.notes import note_create
    from sessions_app.services.accounts import profile_update

    passage = circle.text.passages.get(position=3, retired=False)
    note_create(
        author=world.member,
        passage=passage,
        body="**Ask** @second about the preface",
        visibility="group",
        tags=["follow-up"],
    )
    profile_update(user=circle.second, display_name="<script>alert(1)</script> Reader")
    mark(world, circle, world.member)
    reminders_dispatch_due(now=NOW)
    message = summaries()["organizer@example.org"]
    html = message.alternatives[0][0]

    assert "- Member on §3: **Ask** @<script>alert(1)</script> Reader about the preface\n" in message.body
    assert "@second about" not in message.body + html  # shown by name (the username only as a tooltip)
    assert "<strong>Ask</strong>" in html
    assert "@&lt;script&gt;alert(1)&lt;/script&gt; Reader</span> about the preface" in html
    assert "<script>" not in html
