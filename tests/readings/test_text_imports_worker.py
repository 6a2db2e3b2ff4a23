"""Imports over IMPORT_ASYNC_BYTES with the real parts: the API, a Celery worker process on Redis, PostgreSQL.

The request stores the upload and queues the task after its commit; the
worker (another process, as in production) imports it and records the
outcome on the row, which the test follows through the API as a client would.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from readings.models import Text, TextImport
from readings.services.importing import text_import
from readings.services.text_imports import text_imports_resume

from ..reminders.realparts import wait_for
from ..reminders.test_worker import rig  # noqa: F401 (the fixture: an SMTP server, workers, a private queue)
from .conftest import SAMPLE

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ESSAY = SAMPLE.read_bytes()


@pytest.fixture
def importing(rig, settings):  # noqa: F811 (the fixture above)
    """A worker consuming the queue imports go to; uploads over 10 kB go to it."""
    settings.IMPORT_ASYNC_BYTES = 10_000
    settings.TEXT_IMPORT_QUEUE = rig.queue
    rig.worker("importer")
    return rig


def follow(api, user, location: str) -> dict:
    def ended():
        body = api(user).get(location).json()
        return body if body["state"] in ("done", "failed") else None

    return wait_for(ended, timeout=60, what="the import to end")


def test_a_large_upload_is_imported_by_the_worker_and_followed_through_the_api(world, api, importing):
    response = api(world.organizer).post(
        "/api/v1/texts/",
        {"group": world.group.id, "content": ESSAY.decode(), "format": "txt", "author": "Study notes"},
        format="json",
    )

    assert response.status_code == 202
    assert response.json() == {"state": "queued", "progress": 0, "text": None, "error": None}
    result = follow(api, world.organizer, response["Location"])

    text = Text.objects.get()
    assert result == {"state": "done", "progress": 100, "text": text.pk, "error": None}
    same = text_import(group=world.other_group, created_by=None, data=ESSAY, fmt="txt")
    assert list(text.passages.values_list("position", "kind", "body")) == list(
        same.passages.values_list("position", "kind", "body")
    )
    assert (text.author, text.created_by) == ("Study notes", world.organizer)
    assert TextImport.objects.get().data is None
    detail = api(world.member).get(f"/api/v1/texts/{text.pk}/").json()
    assert (detail["title"], detail["passage_count"]) == (same.title, same.passages.count())


def test_a_large_revision_is_imported_by_the_worker(world, api, importing):
    text = text_import(group=world.group, created_by=world.organizer, data=ESSAY, fmt="txt")

    response = api(world.facilitator).post(
        f"/api/v1/texts/{text.pk}/revisions/",
        {"content": ESSAY.decode().replace("skilfully", "skillfully"), "format": "txt"},
        format="json",
    )
    result = follow(api, world.facilitator, response["Location"])

    text.refresh_from_db()
    assert response.status_code == 202
    assert result == {"state": "done", "progress": 100, "text": text.pk, "error": None}
    assert text.revision == 2
    assert text.revisions.get(number=2).changes["edited"] == 1


def test_an_upload_the_worker_cannot_read_fails_with_its_message_and_writes_nothing(world, api, importing):
    binary = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100

    file = SimpleUploadedFile("chapter.txt", binary, content_type="text/plain")
    response = api(world.organizer).post("/api/v1/texts/", {"group": world.group.id, "file": file}, format="multipart")
    result = follow(api, world.organizer, response["Location"])

    assert result == {
        "state": "failed",
        "progress": 1,
        "text": None,
        "error": "This file looks like a PNG image, not text. "
        "Upload a plain-text (.txt), Markdown (.md), HTML (.html), EPUB (.epub) or PDF (.pdf) file.",
    }
    assert not Text.objects.exists()
    assert TextImport.objects.get().data is None


def test_an_import_whose_message_was_lost_is_queued_again_and_runs(world, api, importing):
    # Stored but never queued, as when the broker lost the message.
    job = TextImport.objects.create(group=world.group, created_by=world.organizer, data=ESSAY, size_bytes=len(ESSAY))
    TextImport.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))

    resumed = text_imports_resume()
    result = follow(api, world.organizer, f"/api/v1/texts/imports/{job.pk}/")

    assert resumed == [job.pk]
    assert result == {"state": "done", "progress": 100, "text": Text.objects.get().pk, "error": None}
