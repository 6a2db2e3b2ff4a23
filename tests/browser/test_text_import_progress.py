"""A large text imported from the import page: the page shows the worker's progress and opens the text when done.

Real parts throughout: chromium, the live server, a Celery worker process on Redis, PostgreSQL.
"""

import pytest
from playwright.sync_api import expect

from readings.models import TextImport

from ..factories import PASSWORD
from ..readings.conftest import SAMPLE
from ..reminders.test_worker import rig  # noqa: F401 (the fixture: worker processes on a private queue)
from .axe import check_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_import_page_follows_a_large_import_and_opens_the_text(world, rig, settings, page, login):  # noqa: F811
    settings.IMPORT_ASYNC_BYTES = 10_000  # the 46 kB sample essay is "large"
    settings.TEXT_IMPORT_QUEUE = rig.queue
    login(page, "organizer", PASSWORD)

    page.goto(f"/groups/{world.group.pk}/texts/import/")
    page.get_by_label("File").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Import").click()

    # No worker yet: the page waits, and says so.
    expect(page.get_by_role("heading", name=f"Importing “{SAMPLE.name}”")).to_be_visible()
    expect(page.locator("#import-state")).to_have_text("Waiting for a worker…")
    assert page.locator("#import-progress").get_attribute("value") == "0"
    check_page(page, "import progress page, waiting")

    rig.worker("importer")  # it takes the queued import; the page notices without a reload by hand

    expect(page.get_by_role("heading", name="The October revolution and the bolsheviks")).to_be_visible(timeout=60_000)
    job = TextImport.objects.get()
    assert page.url.endswith(f"/texts/{job.text_id}/")
    assert (job.state, job.progress, job.data) == ("done", 100, None)
    expect(page.get_by_text("passages.")).to_be_visible()
