"""An organizer imports two chapters of an EPUB in two steps, then reads one with its endnotes, in chromium."""

import pytest
from playwright.sync_api import expect

from readings.models import Text

from ..factories import PASSWORD
from ..readings.documents import MANIFESTO_EPUB
from .axe import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_organizer_picks_chapters_of_an_epub_and_sees_its_endnotes(world, page, login, screenshot, base_url):
    login(page, "organizer", PASSWORD)
    page.goto(f"{base_url}/groups/{world.group.pk}/texts/import/")

    page.get_by_label("File").set_input_files(str(MANIFESTO_EPUB))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_text("Step 2 of 2: choose the chapters to import.")).to_be_visible()
    expect(page.get_by_role("checkbox")).to_have_count(6)
    for chapter in ("Preface to the German Edition of 1872", "Preamble", "IV. Position of the Communists", "Endnotes"):
        page.get_by_label(chapter).uncheck()
    screenshot(page, "import-epub-chapters")
    check_page(page, "EPUB import: choose chapters")
    page.get_by_role("button", name="Import the chosen chapters").click()

    expect(page.get_by_role("heading", name="Manifesto of the Communist Party", exact=True)).to_be_visible()
    text = Text.objects.get()
    assert (text.original_format, text.author, text.passages.count()) == ("epub", "Karl Marx and Friedrich Engels", 16)
    expect(page.locator(".passage-block.heading", has_text="II: Proletarians and Communists")).to_be_visible()
    expect(
        page.get_by_text("The history of all hitherto existing society is the history of class struggles.")
    ).to_be_visible()
