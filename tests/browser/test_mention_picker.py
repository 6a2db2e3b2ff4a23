"""The @mention picker in every note form of the reader: a reply picked by touch on a phone, an edit by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from readings.models import Note
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

from ..factories import PASSWORD, MembershipFactory, UserFactory
from ..readings.conftest import SAMPLE, at

pytestmark = pytest.mark.browser


@pytest.fixture
def thread(world):
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
    MembershipFactory(group=world.group, user=UserFactory(username="ada", display_name="Ada Lovelace"))
    return note_create(author=world.member, passage=at(essay, 12), body="Who led the rising?", visibility="group")


def test_a_reply_picks_a_member_by_touch_on_a_phone(world, thread, new_page, login):
    phone = login(new_page(width=375, height=812, has_touch=True, is_mobile=True), "facilitator", PASSWORD)
    phone.goto(f"/sessions/{world.session.pk}/read/")

    phone.locator(f"#note-{thread.pk}").get_by_role("button", name="Reply", exact=True).tap()
    form = phone.locator("#note-form")
    body = form.get_by_label("Your note")
    body.press_sequentially("Ask @lov")  # by a word of the name, not the username
    picker = phone.get_by_role("listbox", name="Members to mention")
    expect(picker.get_by_role("option")).to_have_text(["Ada Lovelace@ada"])
    picker.get_by_role("option", name=re.compile("Ada Lovelace")).tap()

    expect(picker).to_be_hidden()
    expect(body).to_have_value("Ask @ada ")
    expect(body).to_be_focused()
    body.press_sequentially("about it.")
    form.get_by_role("button", name="Send reply").tap()

    reply = phone.locator(f"#note-{thread.pk} .replies .reply")
    expect(reply).to_contain_text("Ask @Ada Lovelace about it.")
    assert list(Note.objects.filter(parent=thread).values_list("body", flat=True)) == ["Ask @ada about it."]


def test_editing_a_reply_offers_the_picker_and_keeps_the_form_usable(world, thread, new_page, login):
    reply = note_create(author=world.facilitator, passage=thread.passage, body="First thoughts.", parent=thread)
    page = login(new_page(), "facilitator", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")

    page.locator(f"#note-{reply.pk}").get_by_role("button", name="Edit your reply").click()
    body = page.locator("#note-form").get_by_label("Your note")
    expect(body).to_have_value("First thoughts.")
    body.press("End")
    body.press_sequentially(" Cc @me")
    picker = page.get_by_role("listbox", name="Members to mention")
    expect(picker.get_by_role("option")).to_have_text(["Member@member"])
    body.press("Escape")  # closes the picker, not the form
    expect(picker).to_be_hidden()
    expect(page.locator("#note-form")).to_be_visible()
    body.press_sequentially("m")
    body.press("ArrowDown")
    body.press("Tab")
    expect(body).to_have_value("First thoughts. Cc @member ")
    body.press_sequentially("too.")
    page.locator("#note-form").get_by_role("button", name=re.compile("^Save")).click()

    expect(page.locator(f"#note-{reply.pk}")).to_contain_text("First thoughts. Cc @Member too.")
    reply.refresh_from_db()
    assert reply.body == "First thoughts. Cc @member too."
