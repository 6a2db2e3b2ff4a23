# ruff: noqa: F811  (the `organized` fixture, imported from the member journey, is named as an argument)
"""The reader without a mouse, and on a touch screen: choose words, annotate, reply, open a highlight's note.

Keyboard-only: after `goto`, every step is a key press (Tab, arrows, Enter,
typing); nothing is clicked or focused by script. Touch: a phone's selection
handles are stood in for by setting the selection after a tap, as a long
press would.
"""

import pytest
from playwright.sync_api import Locator, Page, expect

from readings.models import Note
from readings.services.notes import note_create

from ..factories import PASSWORD
from .axe import check_page
from .test_member_journey import organized  # noqa: F401 (the fixture: the organizer's preparations)

pytestmark = pytest.mark.browser

CHOSEN = "supported by the poor peasants"


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, locator: Locator, *, limit: int = 120, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until `locator` has focus, as a keyboard user would."""
    for _ in range(limit):
        if is_focused(locator):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{locator} not reached in {limit} presses of Tab")


def keyboard_login(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.fixture
def facilitators_note(world, organized):
    passage = organized["passages"][13]
    words = "weak Russian bourgeoisie"
    start = passage.body.index(words)
    return note_create(
        author=world.facilitator,
        passage=passage,
        body="Weak compared with whom?",
        visibility="group",
        selector={"start": start, "end": start + len(words), "exact": words},
    )


def test_keyboard_only_member_chooses_words_writes_a_group_note_and_replies(
    world,
    organized,
    facilitators_note,
    page,
    screenshot,
):
    keyboard_login(page, "member")
    page.goto(f"/sessions/{world.session.pk}/read/")

    # Choose words: Tab to the passage's "Choose words", then arrows.
    choose = page.get_by_role("button", name="Choose words in passage 12 with the keyboard")
    tab_to(page, choose)
    expect(choose).to_be_visible()  # hidden until it has focus, then shown
    page.keyboard.press("Enter")
    passage_body = page.locator("#p-12 [data-passage-body]")
    expect(passage_body).to_be_focused()
    expect(page.locator("#word-mode-help")).to_be_visible()
    selection = "() => window.getSelection().toString()"
    assert page.evaluate(selection) == "It"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(selection) == "supported"
    for _ in range(4):
        page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate(selection) == CHOSEN
    page.keyboard.press("ArrowDown")  # a sentence at a time
    assert page.evaluate(selection).startswith("It was supported by the poor peasants")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Home")
    for key in ("ArrowRight", "ArrowRight", *["Shift+ArrowRight"] * 4):
        page.keyboard.press(key)
    assert page.evaluate(selection) == CHOSEN

    # Enter: the toolbar, with focus on Annotate; Enter again: the form, right after its passage.
    page.keyboard.press("Enter")
    toolbar = page.get_by_role("toolbar", name="Selected words")
    expect(toolbar.get_by_role("button", name="Annotate")).to_be_focused()
    screenshot(page, "reader-keyboard-toolbar")
    page.keyboard.press("Enter")
    form = page.locator("#note-form")
    expect(form.locator("[data-quote]")).to_have_text(CHOSEN)
    expect(form.get_by_label("Your note")).to_be_focused()
    assert page.evaluate("document.querySelector('#p-12').nextElementSibling.id") == "note-form"
    check_page(page, "reader, note form opened from the keyboard")
    page.keyboard.type("Peasants in uniform: land and peace at once.")
    page.keyboard.press("Tab")  # into the audience choice (a radio group), at the group's default: arrows choose
    expect(form.get_by_label("The group", exact=True)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(form.get_by_label("Facilitators", exact=True)).to_be_checked()
    page.keyboard.press("ArrowLeft")
    expect(form.get_by_label("The group", exact=True)).to_be_checked()
    tab_to(page, form.get_by_role("button", name="Save note"))
    page.keyboard.press("Enter")
    card = page.locator("#p-12 .note-card", has_text="Peasants in uniform")
    expect(card).to_be_focused()
    note = Note.objects.get(body="Peasants in uniform: land and peace at once.")
    start = organized["passages"][12].body.index(CHOSEN)
    assert (note.visibility, note.selector["start"], note.selector["exact"]) == ("group", start, CHOSEN)

    # A highlight takes focus and opens its note; then reply to that note.
    highlight = page.get_by_role("button", name="“weak Russian bourgeoisie”: show its note")
    tab_to(page, highlight)
    page.keyboard.press("Enter")
    other = page.locator(f"#note-{facilitators_note.pk}")
    expect(other).to_be_focused()
    expect(other).to_contain_class("note-card is-active is-linked")  # chosen, and framed with its words
    tab_to(page, other.get_by_role("button", name="Reply"))
    page.keyboard.press("Enter")
    expect(form.get_by_role("heading")).to_have_text(f"Reply to {world.facilitator.name}")
    expect(form.get_by_label("Your note")).to_be_focused()
    page.keyboard.type("Compared with the bourgeoisie of the West.")
    page.keyboard.press("Control+Enter")
    expect(other.locator(".replies")).to_contain_text("Compared with the bourgeoisie of the West.")
    reply = Note.objects.get(parent=facilitators_note)
    assert (reply.author, reply.body) == (world.member, "Compared with the bourgeoisie of the West.")


def test_selecting_words_shows_a_toolbar_and_copies_a_link_without_opening_the_form(
    world,
    organized,
    page,
    login,
):
    from .helpers import drag_select

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")

    drag_select(page, "#p-12", CHOSEN)
    toolbar = page.get_by_role("toolbar", name="Selected words")
    expect(toolbar).to_be_visible()
    expect(page.locator("#note-form")).to_be_hidden()
    # Selecting steals no focus: nothing in the toolbar or a form takes it.
    assert page.evaluate("document.activeElement.closest('#note-form, #selection-toolbar, input, textarea')") is None
    toolbar.get_by_role("button", name="Copy link").click()
    expect(page.locator("#reader-status")).to_have_text("Link to these words copied.")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link.endswith(f"/sessions/{world.session.pk}/read/#p-12:~:text=supported%20by%20the%20poor%20peasants")

    page.keyboard.press("Escape")
    expect(toolbar).to_be_hidden()


def test_on_a_phone_the_chosen_words_stay_visible_above_the_note_sheet(
    world,
    organized,
    new_page,
    login,
    screenshot,
):
    phone = new_page(width=375, height=812, has_touch=True, is_mobile=True)
    login(phone, "member", PASSWORD)
    phone.goto(f"/sessions/{world.session.pk}/read/#p-13")
    words = "a landlord class that had been"
    phone.locator("#p-13 [data-passage-body]").tap()
    # What a long press and the selection handles leave behind: the words, selected.
    phone.evaluate(
        """([words]) => {
          const body = document.querySelector('#p-13 [data-passage-body]');
          const node = body.firstChild;
          const start = node.data.indexOf(words);
          window.getSelection().setBaseAndExtent(node, start, node, start + words.length);
        }""",
        [words],
    )
    toolbar = phone.get_by_role("toolbar", name="Selected words")
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Annotate").tap()
    form = phone.locator("#note-form")
    expect(form.locator("[data-quote]")).to_have_text(words)
    sheet_top = form.bounding_box()["y"]
    chosen = phone.evaluate("() => window.getSelection().getRangeAt(0).getBoundingClientRect().toJSON()")
    assert chosen["top"] >= 0
    assert chosen["bottom"] <= sheet_top
    screenshot(phone, "reader-phone-words-above-sheet")
    check_page(phone, "reader on a phone, words chosen by touch, sheet open", both_widths=False)


def test_your_highlights_and_others_differ_by_line_not_only_by_colour(world, organized, facilitators_note, page, login):
    passage = organized["passages"][12]
    start = passage.body.index(CHOSEN)
    selector = {"start": start, "end": start + len(CHOSEN), "exact": CHOSEN}
    note_create(author=world.member, passage=passage, body="Mine.", visibility="private", selector=selector)
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")

    def underline(selector: str) -> str:
        return page.locator(selector).evaluate("mark => getComputedStyle(mark).borderBottomStyle")

    assert underline("#p-12 mark.hl.own") == "dashed"
    assert underline("#p-13 mark.hl") == "solid"


def test_next_note_go_to_passage_and_links_into_another_part(
    world, organized, facilitators_note, page, login, settings
):
    settings.READER_PAGE_PASSAGES = 8  # §10–§17, then §18–§25
    later = organized["passages"][16]
    second = note_create(author=world.facilitator, passage=later, body="Fuel and food.", visibility="group")
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    check_page(page, "reader, first of two parts, with contents, questions and navigation")
    page.evaluate("window.scrollTo(0, 0)")  # at the top of the reading: the next note is the first

    page.get_by_role("button", name="Next note ↓").click()
    expect(page.locator(f"#note-{facilitators_note.pk}")).to_be_focused()
    page.get_by_role("button", name="Next note ↓").click()
    expect(page.locator(f"#note-{second.pk}")).to_be_focused()
    page.get_by_role("button", name="↑ Previous note").click()
    expect(page.locator(f"#note-{facilitators_note.pk}")).to_be_focused()

    # A passage on this part: no reload; on the other part: that part opens at it.
    page.get_by_label("Go to passage").fill("15")
    page.get_by_label("Go to passage").press("Enter")
    expect(page.locator("#p-15 .passage-num")).to_be_focused()
    assert page.url.endswith("/read/#p-15")
    page.get_by_label("Go to passage").fill("22")
    with page.expect_navigation():
        page.get_by_label("Go to passage").press("Enter")
    expect(page.locator("#p-22 .passage-num")).to_be_in_viewport()
    expect(page.get_by_text("Passages §18–§25 · part 2 of 2").first).to_be_visible()

    page.goto(f"/sessions/{world.session.pk}/read/#p-24")  # a link made before the reading was cut in parts
    expect(page.locator("#p-24 .passage-num")).to_be_in_viewport()
    assert "at=p-24" in page.url
