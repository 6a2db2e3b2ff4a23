"""A member's journey in a real browser: join by invitation, RSVP, read, select words and write notes.

The organizer's part (group, text, session, reading, questions) is set up with
services; everything the new member does goes through the pages.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from readings.models import Note
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.questions import question_create
from sessions_app.models import RSVP
from sessions_app.services.groups import invitation_create

from ..factories import PASSWORD
from .axe import check_page
from .helpers import annotate_selection, drag_select

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"
GROUP_PHRASE = "who were hungry for peace"
PRIVATE_PHRASE = "weak Russian bourgeoisie"
NEWCOMER = "rosa"


@pytest.fixture
def organized(world):
    """What the organizer prepared: the sample essay, passages 10–25 for the session, two questions, a link."""
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    passages = {p.position: p for p in essay.passages.filter(retired=False)}
    assignment_create(
        session=world.session,
        text=essay,
        start_passage=passages[10],
        end_passage=passages[25],
        instructions="Read closely; mark what surprises you.",
    )
    question_create(session=world.session, author=world.organizer, prompt="Why did October not fail?")
    question_create(session=world.session, author=world.organizer, prompt="What holds the worker–peasant alliance?")
    invitation = invitation_create(
        group=world.group,
        created_by=world.organizer,
        max_uses=5,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return {"essay": essay, "passages": passages, "invitation": invitation}


def write_selected_note(page, text: str, audience: str) -> None:
    form = page.locator("#note-form")
    expect(form).to_be_visible()
    expect(form.get_by_label("Your note")).to_be_focused()
    form.get_by_label("Your note").fill(text)
    form.get_by_label(audience, exact=True).check()
    form.get_by_role("button", name="Save note").click()
    expect(form).to_be_hidden()


def test_member_joins_rsvps_and_writes_group_and_private_notes(
    world, organized, page, new_page, login, screenshot, base_url
):
    session = world.session
    reader_url = f"/sessions/{session.pk}/read/"

    # Join through the invitation link: signing up logs the newcomer in and lands on the dashboard.
    page.goto(f"/join/{organized['invitation'].token}/")
    check_page(page, "sign-up by invitation")
    page.get_by_label("User name").fill(NEWCOMER)
    page.get_by_label("Your name").fill("Rosa Luxemburg")
    page.get_by_label("Email").fill("rosa@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_role("heading", name="Coming up")).to_be_visible()

    # RSVP "Going" from the dashboard (htmx swaps the buttons in place).
    rsvp = page.get_by_role("form", name=f"Your answer for {session.title}")
    rsvp.get_by_role("button", name="Going").click()
    expect(rsvp.get_by_role("button", name="Going")).to_have_attribute("aria-pressed", "true")
    check_page(page, "dashboard after an RSVP")
    assert RSVP.objects.get(session=session, user__username=NEWCOMER).status == "going"

    # Open the reading view; select a phrase with the mouse and write a note for the group.
    page.goto(reader_url)
    expect(page.get_by_role("heading", name="The October revolution and the bolsheviks", level=2)).to_be_visible()
    drag_select(page, "#p-12", GROUP_PHRASE)
    annotate_selection(page)
    expect(page.locator("#note-form [data-quote]")).to_have_text(GROUP_PHRASE)
    check_page(page, "reader with the note form open", both_widths=False)
    write_selected_note(page, "The soldiers were **peasants in uniform**.", "The group")
    card = page.locator("#p-12 .note-card", has_text="The soldiers were peasants in uniform.")
    expect(card).to_be_visible()
    expect(card).to_be_focused()

    group_note = Note.objects.get(author__username=NEWCOMER, visibility="group")
    body = organized["passages"][12].body
    start = body.index(GROUP_PHRASE)
    assert (group_note.selector["start"], group_note.selector["end"], group_note.selector["exact"]) == (
        start,
        start + len(GROUP_PHRASE),
        GROUP_PHRASE,
    )

    # After a reload the phrase is highlighted as the newcomer's own.
    page.reload()
    expect(page.locator("#p-12 mark.hl.own")).to_have_text(GROUP_PHRASE)

    # A private note on another passage; the screenshot shows the form open over the text.
    drag_select(page, "#p-13", PRIVATE_PHRASE)
    annotate_selection(page)
    page.locator("#note-form").get_by_label("Your note").fill("Why “weak”? Compare with 1905.")
    # The form starts at the audience chosen last in this group (the group); this one is for me.
    expect(page.locator("#note-form").get_by_label("The group", exact=True)).to_be_checked()
    page.locator("#note-form").get_by_label("Only me", exact=True).check()
    page.evaluate("window.scrollBy(0, document.getElementById('p-12').getBoundingClientRect().top - 24)")
    screenshot(page, "reader-note-open")
    check_page(page, "reader with a private note being written", both_widths=False)
    page.locator("#note-form").get_by_role("button", name="Save note").click()
    expect(page.locator("#p-13 .note-card", has_text="Compare with 1905.")).to_be_visible()
    private_note = Note.objects.get(author__username=NEWCOMER, visibility="private")
    assert private_note.selector["exact"] == PRIVATE_PHRASE

    # Clicking a highlight brings its note card forward.
    page.locator("#p-12 mark.hl").click()
    expect(page.locator(f"#note-{group_note.pk}")).to_contain_class("note-card own is-active is-linked")

    # A second member sees the group note and its highlight, never the private one.
    other = new_page()
    login(other, "member", PASSWORD)
    other.goto(reader_url)
    shared = other.locator("#p-12 .note-card", has_text="The soldiers were peasants in uniform.")
    expect(shared).to_be_visible()
    expect(shared.locator(".byline .author")).to_have_text("Rosa Luxemburg")  # the name given at sign-up
    expect(shared.locator(".note-place")).to_have_text("§12")  # where it is, beside the quoted words
    expect(shared.locator(".quote")).to_have_text(GROUP_PHRASE)
    expect(other.locator("#p-12 mark.hl")).to_have_text(GROUP_PHRASE)
    expect(other.get_by_text("Compare with 1905.")).to_have_count(0)
    expect(other.locator("#p-13 mark")).to_have_count(0)
    assert PRIVATE_PHRASE in other.locator("#p-13 .passage-body").inner_text()


def test_keyboard_adds_a_whole_passage_note_and_escape_returns_focus(world, organized, page, login):
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    add_button = page.locator("#p-14 [data-add-note]")

    page.locator("#p-14 .passage-num").focus()
    page.keyboard.press("Tab")
    expect(add_button).to_be_focused()
    page.keyboard.press("Enter")
    form = page.locator("#note-form")
    expect(form).to_be_visible()
    expect(form.get_by_label("Your note")).to_be_focused()
    expect(form.locator("[data-quote]")).to_have_text("The whole passage")
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(add_button).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.type("Food, fuel and raw materials: the base of it all.")
    for _ in range(8):  # Tab through the audience, question and tags to the Save button
        page.keyboard.press("Tab")
        if form.get_by_role("button", name="Save note").evaluate("button => button === document.activeElement"):
            break
    expect(form.get_by_role("button", name="Save note")).to_be_focused()
    page.keyboard.press("Enter")
    card = page.locator("#p-14 .note-card", has_text="Food, fuel and raw materials")
    expect(card).to_be_focused()
    note = Note.objects.get(body="Food, fuel and raw materials: the base of it all.")
    # Written without choosing an audience: the group's default, "the group".
    assert (note.selector, note.visibility, note.author.username) == (None, "group", "member")

    # An empty note is refused by the API; the message shows beside the field.
    add_button.click()
    form.get_by_role("button", name="Save note").click()
    expect(form.locator("#note-body-error")).to_have_text("This field may not be blank.")
    expect(form.get_by_label("Your note")).to_be_focused()


def test_phone_width_reads_without_sideways_scrolling(world, organized, new_page, login, screenshot):
    passage = organized["passages"][12]
    start = passage.body.index(GROUP_PHRASE)
    from readings.services.notes import note_create

    note_create(
        author=world.facilitator,
        passage=passage,
        body="Land and peace: the two demands that won the countryside.",
        visibility="group",
        selector={"start": start, "end": start + len(GROUP_PHRASE), "exact": GROUP_PHRASE},
        tags=["peasants"],
    )
    phone = new_page(width=375, height=812, has_touch=True, is_mobile=True)
    login(phone, "member", PASSWORD)
    phone.goto(f"/sessions/{world.session.pk}/read/#p-12")

    expect(phone.locator("#p-12 .passage-num")).to_be_in_viewport()  # the deep link lands on its passage
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    expect(phone.locator("#p-12 .note-card")).to_be_visible()
    add_button = phone.locator("#p-12 [data-add-note]")
    assert add_button.bounding_box()["height"] >= 44
    screenshot(phone, "reader-phone")
    check_page(phone, "reader on a phone", both_widths=False)

    add_button.tap()
    form = phone.locator("#note-form")
    expect(form).to_be_visible()
    box = form.bounding_box()
    assert (round(box["x"]), round(box["width"]), round(box["y"] + box["height"])) == (0, 375, 812)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone, "reader-phone-note-form")
    check_page(phone, "reader on a phone with the note form docked", both_widths=False)
