"""The reading view that stays open: others' notes arrive live; highlights; helpful marks. In chromium."""

import pytest
from playwright.sync_api import expect

from readings.models import Note, NoteHelpful
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

from ..factories import PASSWORD, MembershipFactory, UserFactory
from .axe import check_page
from .helpers import drag_select

pytestmark = pytest.mark.browser

ESSAY = (
    "The October revolution\n\n"
    "The peasants, who were hungry for land, followed the Bolsheviks in the autumn of 1917.\n\n"
    "The workers of Petrograd took the Winter Palace on the night of the 25th."
)


@pytest.fixture
def passages(world):
    text = text_import(group=world.group, created_by=world.organizer, content=ESSAY, title="October")
    rows = {p.position: p for p in text.passages.filter(retired=False)}
    assignment_create(session=world.session, text=text, start_passage=rows[2], end_passage=rows[3])
    return rows


@pytest.fixture
def bea(world):
    user = UserFactory(username="bea", display_name="Bea")
    MembershipFactory(group=world.group, user=user)
    return user


def test_a_group_note_saved_on_one_page_appears_on_the_other_and_a_private_one_never(
    world, passages, bea, new_page, login, settings
):
    settings.READER_POLL_SECONDS = 1
    mine, theirs = new_page(), new_page()
    login(mine, "member", PASSWORD)
    login(theirs, "bea", PASSWORD)
    read = f"/sessions/{world.session.pk}/read/"
    mine.goto(read)
    theirs.goto(read)

    # Bea writes a private note first, then a group note, through her page's form.
    for words, body, audience in (
        ("hungry for land", "Only mine, Bea's.", "Only me"),
        ("followed the Bolsheviks", "Land first, then peace.", "The group"),
    ):
        drag_select(theirs, "#p-2", words)
        theirs.get_by_role("toolbar", name="Selected words").get_by_role("button", name="Annotate").click()
        form = theirs.locator("#note-form")
        form.get_by_label("Your note").fill(body)
        form.get_by_role("radio", name=audience).check()
        form.get_by_role("button", name="Save note").click()
        expect(theirs.locator("#p-2 .note-card", has_text=body)).to_be_visible()

    bar = mine.locator("#live-bar")
    expect(bar).to_contain_text("1 new note")
    expect(mine.locator(".note-card")).to_have_count(0)  # nothing moved under the reader's eyes
    bar.get_by_role("button", name="Show").click()
    expect(mine.locator("#p-2 .note-card", has_text="Land first, then peace.")).to_be_visible()
    expect(bar).to_be_hidden()
    expect(mine.locator("#p-2 mark.hl")).to_have_count(1)

    # A reply arrives the same way; the private note never did, on the page or in the poll.
    group_note = Note.objects.get(body="Land first, then peace.")
    note_create(author=bea, passage=passages[2], body="And bread.", parent=group_note)
    expect(bar).to_contain_text("1 new note")
    bar.get_by_role("button", name="Show").click()
    expect(mine.locator(f"#note-{group_note.pk} .reply", has_text="And bread.")).to_be_visible()
    assert "Only mine, Bea's." not in mine.content()


def test_highlight_from_the_toolbar_marks_the_words_for_me_alone(
    world, passages, bea, new_page, login, screenshot, settings
):
    settings.READER_POLL_SECONDS = 1
    page = new_page()
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    others = new_page()
    login(others, "bea", PASSWORD)
    others.goto(f"/sessions/{world.session.pk}/read/")

    drag_select(page, "#p-2", "who were hungry for land")
    page.get_by_role("toolbar", name="Selected words").get_by_role("button", name="Highlight").click()

    mark = page.locator("#p-2 mark.hl-only")
    expect(mark).to_have_text("who were hungry for land")
    expect(page.locator(".note-card")).to_have_count(0)
    expect(page.locator("#p-3 mark")).to_have_count(0)
    highlight = Note.objects.get(highlight=True)
    assert (highlight.author, highlight.visibility, highlight.body) == (world.member, "private", "")
    page.mouse.click(5, 5)  # away from the words, so the picture shows the highlight alone
    screenshot(page, "reader-highlight")
    check_page(page, "reader with a highlight")

    others.wait_for_timeout(2500)  # a poll or two later, Bea's page has nothing new
    expect(others.locator("mark")).to_have_count(0)
    expect(others.locator("#live-bar")).to_be_hidden()

    # Pressing Enter on one's own highlight offers to remove it.
    page.once("dialog", lambda dialog: dialog.accept())
    mark.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#p-2 mark")).to_have_count(0)
    assert not Note.objects.filter(highlight=True).exists()


def test_a_highlight_for_the_group_reaches_the_others_and_the_choice_is_kept_in_this_group(
    world, passages, bea, new_page, login, settings
):
    settings.READER_POLL_SECONDS = 1
    page, others = login(new_page(), "member", PASSWORD), login(new_page(), "bea", PASSWORD)
    read = f"/sessions/{world.session.pk}/read/"
    page.goto(read)
    others.goto(read)

    drag_select(page, "#p-2", "who were hungry for land")
    toolbar = page.get_by_role("toolbar", name="Selected words")
    audience = toolbar.get_by_role("combobox", name="Who sees the highlight")
    expect(audience).to_have_value("private")  # private unless the person says otherwise
    audience.select_option(label="The group")
    toolbar.get_by_role("button", name="Highlight").click()

    expect(page.locator("#p-2 mark.hl-only")).to_have_text("who were hungry for land")
    expect(page.locator("#reader-status")).to_have_text("Highlighted for the group.")
    highlight = Note.objects.get(highlight=True)
    assert (highlight.author, highlight.visibility) == (world.member, "group")
    # Bea's open page draws it at its next poll, without a reload, and without a card.
    expect(others.locator("#p-2 mark.hl-only")).to_have_text("who were hungry for land")
    expect(others.locator(".note-card")).to_have_count(0)

    # The next highlight in this group starts at the audience chosen, also after a reload.
    page.reload()
    drag_select(page, "#p-3", "Winter Palace")
    toolbar = page.get_by_role("toolbar", name="Selected words")
    expect(toolbar.get_by_role("combobox", name="Who sees the highlight")).to_have_value("group")
    toolbar.get_by_role("combobox", name="Who sees the highlight").select_option(label="Facilitators")
    toolbar.get_by_role("button", name="Highlight").click()
    expect(page.locator("#p-3 mark.hl-only")).to_have_text("Winter Palace")
    assert Note.objects.get(highlight=True, passage=passages[3]).visibility == "facilitators"
    others.reload()
    expect(others.locator("#p-3 mark")).to_have_count(0)  # Bea is no facilitator

    # The choice is this person's: Bea, signing in next on the same browser, starts at "Only me".
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    login(page, "bea", PASSWORD)
    page.goto(read)
    drag_select(page, "#p-3", "took the")
    toolbar = page.get_by_role("toolbar", name="Selected words")
    expect(toolbar.get_by_role("combobox", name="Who sees the highlight")).to_have_value("private")


def test_marking_a_note_helpful_and_taking_it_back(world, passages, bea, page, login):
    note = note_create(author=bea, passage=passages[2], body="Land first.", visibility="group")
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    button = page.locator(f"#note-{note.pk}").get_by_role("button", name="Helpful")

    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text("Helpful 1")
    assert NoteHelpful.objects.filter(note=note, user=world.member).exists()
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_text("Helpful")
    assert not NoteHelpful.objects.exists()
