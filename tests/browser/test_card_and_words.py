"""A note card and the words it is about are seen as one: pointing at or focusing either frames the other."""

import pytest
from playwright.sync_api import expect

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

from ..factories import PASSWORD

pytestmark = pytest.mark.browser

CONTENT = "Land and peace\n\nThe peasants wanted land and the soldiers wanted peace.\n"


@pytest.fixture
def two_notes(world):
    text = text_import(group=world.group, created_by=world.organizer, content=CONTENT, title="Land and peace")
    passages = list(text.passages.order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=passages[0], end_passage=passages[-1])
    body = passages[1].body
    notes = {}
    for words, said in (("wanted land", "Land first."), ("wanted peace", "Peace first.")):
        start = body.index(words)
        notes[words] = note_create(
            author=world.facilitator,
            passage=passages[1],
            body=said,
            visibility="group",
            selector={"start": start, "end": start + len(words), "exact": words},
        )
    return notes


def framed(locator) -> bool:
    """Connected by shape, not hue: a solid outline round the words, an inset bar on the card."""
    return locator.evaluate(
        """(element) => {
          const style = getComputedStyle(element);
          if (element.tagName === "MARK") return style.outlineStyle === "solid" && parseFloat(style.outlineWidth) >= 2;
          return style.boxShadow.includes("inset");
        }"""
    )


def test_pointing_at_a_card_frames_its_words_and_pointing_at_words_frames_their_card(world, two_notes, page, login):
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    land_card = page.locator(f"#note-{two_notes['wanted land'].pk}")
    peace_card = page.locator(f"#note-{two_notes['wanted peace'].pk}")
    land_words = page.locator("#p-2 mark.hl", has_text="wanted land")
    peace_words = page.locator("#p-2 mark.hl", has_text="wanted peace")
    expect(land_card).to_be_visible()
    assert not framed(land_words)
    assert not framed(land_card)

    land_card.hover()
    expect(land_words).to_contain_class("is-linked")
    assert framed(land_words)
    assert framed(land_card)
    assert not framed(peace_words)
    assert not framed(peace_card)

    page.get_by_role("heading", name="Land and peace").first.hover()
    expect(land_words).not_to_contain_class("is-linked")
    assert not framed(land_words)
    assert not framed(land_card)

    peace_words.hover()
    expect(peace_card).to_contain_class("is-linked")
    assert framed(peace_card)
    assert framed(peace_words)
    assert not framed(land_card)


def test_focusing_words_frames_their_card_and_focusing_a_card_frames_its_words(world, two_notes, page, login):
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    page.mouse.move(0, 0)
    land_card = page.locator(f"#note-{two_notes['wanted land'].pk}")
    land_words = page.get_by_role("button", name="“wanted land”: show its note")
    peace_words = page.get_by_role("button", name="“wanted peace”: show its note")

    land_words.focus()
    page.keyboard.press("Tab")  # on to the next marked words, as a keyboard user moves
    expect(peace_words).to_be_focused()
    peace_card = page.locator(f"#note-{two_notes['wanted peace'].pk}")
    expect(peace_card).to_contain_class("is-linked")
    assert framed(peace_card)
    assert not framed(land_card)

    page.keyboard.press("Shift+Tab")
    expect(land_words).to_be_focused()
    expect(land_card).to_contain_class("is-linked")
    page.keyboard.press("Enter")  # shows its note: the card takes focus, and its words stay framed
    expect(land_card).to_be_focused()
    assert framed(land_card)
    assert framed(page.locator("#p-2 mark.hl", has_text="wanted land"))
    assert not framed(peace_card)
