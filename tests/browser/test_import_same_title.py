"""Importing a text whose title the group already has asks whether it is a new revision, in chromium."""

import pytest
from playwright.sync_api import expect

from readings.models import Text
from readings.services.importing import text_import

from ..factories import PASSWORD
from .axe import check_page

pytestmark = pytest.mark.browser

FIRST = "Land and peace\n\nThe peasants wanted land.\n\nThe soldiers wanted peace.\n"
SECOND = "Land and peace\n\nThe peasants wanted land.\n\nThe soldiers wanted peace at once.\n"


def choose_file(page, content: str) -> None:
    page.get_by_label("File").set_input_files(
        files=[{"name": "land.txt", "mimeType": "text/plain", "buffer": content.encode()}]
    )


def test_organizer_imports_a_text_again_as_its_new_revision(world, page, login, base_url):
    text = text_import(group=world.group, created_by=world.organizer, content=FIRST, filename="land.txt")
    login(page, "organizer", PASSWORD)
    page.goto(f"/groups/{world.group.pk}/texts/import/")

    choose_file(page, SECOND)
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name="A text called “Land and peace” exists")).to_be_visible()
    choices = page.get_by_role("group", name="Import this file")
    expect(choices.get_by_role("radio", name="As a new revision of “Land and peace”")).to_be_checked()
    expect(choices.get_by_role("radio", name="As a separate text")).not_to_be_checked()
    check_page(page, "text import: a text with this title exists")
    page.get_by_role("button", name="Import").click()

    expect(page).to_have_url(f"{base_url}/texts/{text.pk}/")
    expect(page.get_by_text("Imported revision 2 of “Land and peace”: 2 passages kept, 1 edited")).to_be_visible()
    expect(page.get_by_text("The soldiers wanted peace at once.")).to_be_visible()
    assert list(Text.objects.values_list("pk", "revision")) == [(text.pk, 2)]


def test_organizer_keeps_the_old_text_and_imports_a_separate_one_with_the_keyboard(world, page, login):
    text = text_import(group=world.group, created_by=world.organizer, content=FIRST, filename="land.txt")
    login(page, "organizer", PASSWORD)
    page.goto(f"/groups/{world.group.pk}/texts/import/")

    choose_file(page, SECOND)
    page.get_by_role("button", name="Import").click()
    revision = page.get_by_role("radio", name="As a new revision of “Land and peace”")
    revision.focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="As a separate text")).to_be_checked()
    page.keyboard.press("Enter")  # submits the form, as a radio button does

    expect(page.get_by_text("Imported “Land and peace”: 3 passages.")).to_be_visible()
    other = Text.objects.exclude(pk=text.pk).get()
    assert page.url.endswith(f"/texts/{other.pk}/")
    assert sorted(Text.objects.values_list("title", "revision")) == [("Land and peace", 1), ("Land and peace", 1)]
