"""Pages at phone width, breadcrumbs lined up, and questions reordered and removed as an organizer would."""

import pytest
from playwright.sync_api import expect

from readings.models import DiscussionQuestion
from readings.services.questions import question_create

from ..factories import PASSWORD
from .axe import check_page
from .test_accessibility import prepared  # noqa: F401 (the fixture: a text, a reading, questions, notes)

pytestmark = pytest.mark.browser


def test_organizer_reorders_questions_without_a_reload_and_confirms_a_removal(world, page, login):
    for prompt in ("First?", "Second?", "Third?"):
        question_create(session=world.session, author=world.organizer, prompt=prompt)
    login(page, "organizer", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/questions/")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("button", name="Move “First?” down").click()
    prompts = page.locator("#questions .prompt")
    expect(prompts).to_have_text(["1. Second?", "2. First?", "3. Third?"])
    expect(page.get_by_role("button", name="Move “First?” down")).to_be_focused()
    expect(page.locator("#questions-status")).to_have_text("Moved to place 2 of 3.")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    assert list(DiscussionQuestion.objects.order_by("position").values_list("prompt", flat=True)) == [
        "Second?",
        "First?",
        "Third?",
    ]

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("#questions li", has_text="Third?").get_by_role("button", name="Remove").click()
    expect(prompts).to_have_count(3)
    assert asked == ["Remove the question “Third?”? This cannot be undone."]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#questions li", has_text="Third?").get_by_role("button", name="Remove").click()
    expect(prompts).to_have_text(["1. Second?", "2. First?"])
    check_page(page, "question editor after a removal")


def test_pages_fit_a_phone(world, prepared, new_page, login):  # noqa: F811
    phone = new_page(width=375, height=812, has_touch=True, is_mobile=True)
    login(phone, "organizer", PASSWORD)

    phone.goto(f"/groups/{world.group.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    remove = phone.get_by_role("button", name="Remove").first
    box = remove.bounding_box()
    assert box["x"] + box["width"] <= 375  # the People table's last column is on screen
    rsvp = phone.get_by_role("form", name=f"Your answer for {world.session.title}")
    counts = phone.locator(".rsvp-cell .rsvp-counts")
    assert counts.bounding_box()["width"] > 100  # the counts read on one line, not one word a line
    assert rsvp.bounding_box()["width"] > 200

    phone.goto(f"/sessions/{world.session.pk}/readings/new/?text={prepared['essay'].pk}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    excerpt = phone.locator(".picker .excerpt").nth(3)
    assert excerpt.bounding_box()["width"] > 250  # excerpts get the whole width

    for url in (f"/sessions/{world.session.pk}/questions/", f"/sessions/{world.session.pk}/"):
        phone.goto(url)
        crumbs, heading = phone.locator(".breadcrumbs"), phone.get_by_role("heading", level=1)
        assert crumbs.bounding_box()["x"] == heading.bounding_box()["x"]


def test_breadcrumbs_line_up_with_the_heading_on_a_desktop(world, prepared, page, login):  # noqa: F811
    login(page, "organizer", PASSWORD)
    for url in (f"/sessions/{world.session.pk}/questions/", f"/groups/{world.group.pk}/texts/import/"):
        page.goto(url)
        crumbs, heading = page.locator(".breadcrumbs"), page.get_by_role("heading", level=1)
        assert crumbs.bounding_box()["x"] == heading.bounding_box()["x"]
