"""The conversation loop in a browser, with the real parts: a reply that mentions someone reaches the note's
author and the person mentioned, once each, on the bell and by email (a Celery worker on Redis, aiosmtpd)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from readings.models import Note
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_set_hidden
from reminders.models import Notification, Reminder

from ..factories import PASSWORD
from ..readings.conftest import SAMPLE, at
from ..reminders.realparts import wait_for
from ..reminders.test_worker import rig  # noqa: F401 (the fixture: worker, Redis namespace, SMTP recorder)
from .axe import check_page

pytestmark = pytest.mark.browser


@pytest.fixture
def essay(world):
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
    return essay


def body_of(received) -> str:
    return received.message.get_body(("plain",)).get_content()


def path_in(text: str) -> str:
    """The path of the email's link to the note (the worker's SITE_URL is not the live server's address)."""
    return re.search(r"Read it: https?://[^/\s]+(/\S+)", text).group(1)


def test_a_reply_that_mentions_someone_reaches_the_author_and_the_mentioned_once_each(
    world,
    essay,
    rig,  # noqa: F811 (the fixture imported above)
    new_page,
    login,
    screenshot,
    settings,
):
    settings.NOTIFICATION_BATCH_SECONDS = 1  # the planner runs in the live server, in this process
    reader = f"/sessions/{world.session.pk}/read/"

    # A (member) writes a group note on passage 12.
    author = login(new_page(), "member", PASSWORD)
    author.goto(reader)
    author.get_by_role("button", name="Add a note on passage 12").click()
    form = author.locator("#note-form")
    form.get_by_label("Your note").fill("Who really led the rising?")
    form.get_by_label("The group", exact=True).check()
    form.get_by_role("button", name="Save note").click()
    expect(author.locator("#p-12 .note-card", has_text="Who really led the rising?")).to_be_visible()
    note = Note.objects.get(body="Who really led the rising?")

    # B (facilitator) replies and mentions C (organizer) through the picker, with the keyboard.
    replier = login(new_page(), "facilitator", PASSWORD)
    replier.goto(reader)
    replier.locator(f"#note-{note.pk}").get_by_role("button", name="Reply", exact=True).click()
    body = replier.locator("#note-form").get_by_label("Your note")
    body.press_sequentially("The sources say @Org")
    picker = replier.get_by_role("listbox", name="Members to mention")
    expect(picker.get_by_role("option")).to_have_text(["Organizer@organizer"])
    expect(body).to_have_attribute("aria-activedescendant", re.compile(r"^mention-picker-\d+-0$"))
    check_page(replier, "reader with the mention picker open", both_widths=False)
    screenshot(replier, "mention-picker")
    body.press("Enter")
    expect(picker).to_be_hidden()
    expect(body).to_have_value("The sources say @organizer ")
    body.press_sequentially("knows.")
    replier.locator("#note-form").get_by_role("button", name="Send reply").click()
    # Pages show the mention by the member's name.
    expect(replier.locator(f"#note-{note.pk} .replies .mention")).to_have_text("@Organizer")
    expect(replier.locator(f"#note-{note.pk} .replies")).to_contain_text("The sources say @Organizer knows.")
    reply = Note.objects.get(parent=note)

    # The worker sends one email each to A and C, and none to B.
    rig.worker("w1")
    wait_for(
        lambda: Reminder.objects.filter(state="sent").count() == 2,
        timeout=60,
        tick=rig.beat(),
        what="the two emails to be sent",
    )
    emails = {received.to: received for received in rig.smtp.received}
    assert sorted(emails) == [("member@example.org",), ("organizer@example.org",)]
    assert len(rig.smtp.received) == 2
    assert set(Notification.objects.values_list("recipient__username", "kind")) == {
        ("member", "reply"),
        ("organizer", "mention"),
    }
    mention_email = body_of(emails[("organizer@example.org",)])
    assert "Facilitator mentioned you in a note" in mention_email
    assert "The sources say @Organizer knows." in mention_email

    # C sees the bell, the list, and the email's link opens the note in the reader.
    mentioned = login(new_page(), "organizer", PASSWORD)
    bell = mentioned.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    screenshot(mentioned, "notifications-bell")
    bell.click()
    expect(mentioned.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(mentioned.locator(".notification")).to_have_count(1)
    expect(mentioned.locator(".notification.unread")).to_contain_text("Facilitator mentioned you")
    check_page(mentioned, "notifications list")
    screenshot(mentioned, "notifications-list")
    mentioned.goto(path_in(mention_email))
    expect(mentioned.locator(f"#note-{reply.pk}")).to_be_visible()
    mentioned.goto("/notifications/")
    mentioned.get_by_role("button", name="Mark all as read").click()
    expect(mentioned.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    author.goto("/notifications/")  # from elsewhere: the reader at the same address would only scroll
    expect(author.locator(".notification.unread")).to_contain_text("Facilitator replied in your thread")
    author.goto(path_in(body_of(emails[("member@example.org",)])))
    expect(author.locator(f"#note-{reply.pk}")).to_be_visible()

    # A private note that mentions C: the form says C will not be told, and nobody is.
    author.get_by_role("button", name="Add a note on passage 13").click()
    form = author.locator("#note-form")
    form.get_by_label("Only me", exact=True).check()
    form.get_by_label("Your note").press_sequentially("Ask @organizer ")
    expect(form.locator("[data-mention-audience]")).to_have_text(
        "Organizer will not be told: only you can see this note."
    )
    form.get_by_role("button", name="Save note").click()
    expect(author.locator("#p-13 .note-card", has_text="Ask @organizer")).to_be_visible()
    assert Notification.objects.filter(note__body__startswith="Ask @organizer").count() == 0

    # A reply whose note left the recipient's view before dispatch sends nothing.
    settings.NOTIFICATION_BATCH_SECONDS = 3600
    replier.locator(f"#note-{note.pk}").get_by_role("button", name="Reply", exact=True).click()
    replier.locator("#note-form").get_by_label("Your note").fill("One more thing.")
    replier.locator("#note-form").get_by_role("button", name="Send reply").click()
    expect(replier.locator(f"#note-{note.pk} .replies")).to_contain_text("One more thing.")
    late = Note.objects.get(body="One more thing.")
    note_set_hidden(note=late, hidden=True, by=world.organizer)
    Reminder.objects.filter(state="pending").update(due_at=timezone.now(), next_attempt_at=timezone.now())
    wait_for(
        lambda: not Reminder.objects.filter(state__in=["pending", "sending"]).exists(),
        timeout=60,
        tick=rig.beat(),
        what="the last email to be dealt with",
    )
    assert Reminder.objects.get(events__notification__note=late).state == "skipped"
    assert len(rig.smtp.received) == 2
