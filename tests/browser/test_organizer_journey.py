"""An organizer's journey in a real browser, every step through the pages:
log in, import the sample essay, schedule a session, assign a passage range,
add two questions, download the PDF pack (rendered by a real worker).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from readings.models import DiscussionQuestion, ReadingAssignment, Text
from sessions_app.models import Session

from ..factories import PASSWORD
from .axe import check_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


def test_organizer_imports_schedules_assigns_asks_and_downloads_the_pdf(
    world, page, login, screenshot, tmp_path, render_worker
):
    # The group's other session, at a plausible hour for the dashboard screenshot.
    world.session.starts_at = datetime(2030, 2, 28, 0, 0, tzinfo=UTC)
    world.session.ends_at = world.session.starts_at + timedelta(minutes=90)
    world.session.location = "Online"
    world.session.save()
    login(page, "organizer", PASSWORD)

    # Import the sample essay from the group page.
    page.get_by_role("link", name="Tuesday Readers").first.click()
    page.get_by_role("link", name="Import a text").click()
    check_page(page, "text import form")
    page.get_by_label("File").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="The October revolution and the bolsheviks")).to_be_visible()
    expect(page.locator(".passage-block.heading", has_text="a) Proletarian Dictatorship")).to_be_visible()
    text = Text.objects.get()
    check_page(page, "the imported text")

    # Schedule a session.
    page.get_by_role("link", name="Tuesday Readers").click()
    page.get_by_role("link", name="Schedule a session").click()
    check_page(page, "session editor")
    page.get_by_label("Title").fill("The tactics of October")
    page.get_by_label("Starts").fill("2030-03-07T19:00")
    page.get_by_label("Timezone").select_option("America/New_York")
    page.get_by_label("Location").fill("Community library, room 2")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", name="The tactics of October")).to_be_visible()
    expect(page.get_by_text("Thursday 7 March 2030, 19:00–20:30 EST")).to_be_visible()
    session = Session.objects.get(title="The tactics of October")

    # Assign passages 10 to 25 by picking the first and the last.
    page.get_by_role("link", name="Assign a reading").first.click()
    page.get_by_role("link", name="The October revolution and the bolsheviks").click()
    page.get_by_role("radio", name="From §10", exact=True).check()
    page.get_by_role("radio", name="To §25", exact=True).check()
    expect(page.get_by_text("§10–§25: 16 passages.")).to_be_visible()
    check_page(page, "passage picker with a range chosen")
    page.get_by_label("Instructions").fill("Read the favourable conditions closely.")
    page.get_by_role("button", name="Assign this range").click()
    expect(page.locator("#readings")).to_contain_text("§10–§25")
    reading = ReadingAssignment.objects.get(session=session)
    assert (reading.text, reading.start_passage.position, reading.end_passage.position) == (text, 10, 25)

    # Add two questions.
    page.get_by_role("link", name="Write and order questions").click()
    for prompt, kind in (
        ("Why did October not fail?", "opening"),
        ("Which of the internal conditions still hold today?", "application"),
    ):
        page.get_by_label("Question", exact=True).fill(prompt)
        page.get_by_label("Kind").select_option(kind)
        page.get_by_label("Suggested minutes").fill("10")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_text(prompt)).to_be_visible()
    check_page(page, "question editor with two questions")
    assert list(DiscussionQuestion.objects.filter(session=session).values_list("kind", flat=True)) == [
        "opening",
        "application",
    ]
    page.get_by_role("link", name="Back to the session").click()
    expect(page.locator("#questions")).to_contain_text("Which of the internal conditions still hold today?")
    screenshot(page, "session-page", full_page=True)
    check_page(page, "session page of an organizer")

    # Download the PDF pack: the page waits for the worker, then saves the file.
    render_worker.start()
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name="PDF").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert download.suggested_filename == "the-tactics-of-october-2030-03-07.pdf"
    assert saved.read_bytes().startswith(b"%PDF-")

    page.goto("/")
    expect(page.get_by_role("heading", name="Coming up")).to_be_visible()
    screenshot(page, "dashboard")
    check_page(page, "dashboard of an organizer")
