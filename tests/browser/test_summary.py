"""After the session, in chromium with the real parts: the facilitator ticks who came on the session page, and the
summary email reaches every member (a Celery worker on Redis, aiosmtpd) with the attendees and the questions, each
with only what its recipient may see."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reminders.models import Reminder

from ..factories import PASSWORD
from ..readings.summary_circle import (
    ANSWER_FACILITATORS,
    ANSWER_PRIVATE,
    ANSWER_TOP,
    FOLLOW_FACILITATORS,
    FOLLOW_GROUP,
    build_circle,
)
from ..reminders.realparts import wait_for
from ..reminders.test_worker import rig  # noqa: F401 (the fixture: worker, Redis namespace, SMTP recorder)
from .axe import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def body_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def test_after_attendance_is_marked_the_summary_email_arrives_with_the_attendees_and_the_questions(
    world,
    rig,  # noqa: F811 (the fixture imported above)
    new_page,
    login,
):
    circle = build_circle(world, now=timezone.now())

    lead = login(new_page(), "facilitator", PASSWORD)
    lead.goto(f"/sessions/{circle.held.pk}/")
    came = lead.get_by_role("group", name="Tick the members who came; saving emails the group the summary.")
    came.get_by_label("Member", exact=True).check()
    came.get_by_label("Second Reader", exact=True).check()
    lead.get_by_role("button", name="Save attendance").click()
    expect(lead.get_by_role("heading", name="How “October, week two” went")).to_be_visible()
    expect(lead.locator("#summary-attendance")).to_contain_text("Member, Second Reader (2)")
    expect(lead.locator("#question-1")).to_contain_text(ANSWER_TOP)
    check_page(lead, "the after-session summary", both_widths=False)

    rig.worker("w1")
    wait_for(
        lambda: Reminder.objects.filter(kind="summary", state="sent").count() == 4,
        timeout=60,
        tick=rig.beat(),
        what="the four summaries to be sent",
    )
    summaries = {
        received.to[0]: body_of(received) for received in rig.smtp.received if "After “October" in received.subject
    }
    assert sorted(summaries) == [
        "facilitator@example.org",
        "member@example.org",
        "organizer@example.org",
        "second@example.org",
    ]
    member = summaries["member@example.org"]
    assert "Who came: Member, Second Reader (2)." in member
    assert "1. What is the main claim?" in member
    assert "2. What follows from it?" in member
    assert ANSWER_TOP in member
    assert FOLLOW_GROUP in member
    assert ANSWER_FACILITATORS not in member
    assert FOLLOW_FACILITATORS not in member
    assert FOLLOW_FACILITATORS in summaries["facilitator@example.org"]
    assert all(ANSWER_PRIVATE not in body for body in summaries.values())

    # Saving the attendance again (one more ticked) sends nobody a second summary.
    lead.goto(f"/sessions/{circle.held.pk}/")
    lead.get_by_label("Organizer", exact=True).check()
    lead.get_by_role("button", name="Save attendance").click()
    expect(lead.locator("#summary-attendance")).to_contain_text("(3)")
    wait_for(
        lambda: not Reminder.objects.filter(state__in=["pending", "sending"], due_at__lte=timezone.now()).exists(),
        timeout=30,
        tick=rig.beat(),
        what="the outbox to settle",
    )
    assert Reminder.objects.filter(kind="summary").count() == 4
    assert sum("After “October" in received.subject for received in rig.smtp.received) == 4
