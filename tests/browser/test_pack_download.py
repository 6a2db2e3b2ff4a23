"""The PDF button in a real browser: the page says the PDF is being prepared and downloads it when a worker has made it.

A real Celery worker renders into Redis (the shared cache), started only
after both tabs have asked, so the two requests really wait together.
"""

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

from ..factories import PASSWORD
from ..readings.conftest import SAMPLE
from .axe import check_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def pdf_request(response) -> bool:
    return "/pack/?format=pdf" in response.url


@pytest.fixture
def reading(world):
    """Passages 10–25 of the sample essay for the session, with a note on them."""
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    passages = {p.position: p for p in essay.passages.filter(retired=False)}
    assignment_create(session=world.session, text=essay, start_passage=passages[10], end_passage=passages[25])
    note_create(author=world.member, passage=passages[12], body="Why *land* first?", visibility="group")


def test_two_tabs_asking_for_the_pdf_wait_for_one_render_and_both_download_it(
    world, reading, new_page, login, render_worker, screenshot
):
    first, second = new_page(), new_page()
    for tab in (first, second):
        login(tab, "member", PASSWORD)
    first.goto(f"/sessions/{world.session.pk}/")

    with first.expect_response(lambda r: pdf_request(r) and r.status == 202):
        first.get_by_role("link", name="PDF").click()
    with second.expect_response(lambda r: pdf_request(r) and r.status == 202):
        second.goto(f"/sessions/{world.session.pk}/pack/pdf/")
    for tab in (first, second):
        expect(tab.get_by_role("status")).to_have_text("Preparing your PDF…")
        expect(tab.get_by_role("link", name="Download again")).to_be_hidden()
    screenshot(first, "pack-download-preparing")
    check_page(first, "PDF download page, waiting for the worker")
    queued = render_worker.queued()
    with first.expect_download(timeout=60_000) as one, second.expect_download(timeout=60_000) as other:
        render_worker.start()
    downloads = [one.value, other.value]

    day = world.session.starts_at.astimezone(ZoneInfo(world.session.timezone))
    name = f"october-week-one-{day:%Y-%m-%d}.pdf"
    files = [download.path().read_bytes() for download in downloads]
    assert first.url.endswith(f"/sessions/{world.session.pk}/pack/pdf/")
    assert queued == 1
    assert [download.suggested_filename for download in downloads] == [name, name]
    assert files[0].startswith(b"%PDF-")
    assert files[0] == files[1]
    assert render_worker.renders("pdf") == 1
    for tab in (first, second):
        expect(tab.get_by_role("status")).to_have_text(f"Your PDF is ready: {name} is downloading.")
        expect(tab.get_by_role("link", name="Download again")).to_be_visible()
