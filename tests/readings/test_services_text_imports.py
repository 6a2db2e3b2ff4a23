"""Imports over IMPORT_ASYNC_BYTES: 202 and a worker, in this process (the service run directly).

The Celery wiring is tested with a real worker in tests/readings/test_text_imports_worker.py.
Here the task the request queues is captured (not sent) and `text_import_run` plays the worker.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.models import Passage, Text, TextImport, TextRevision
from readings.services.importing import text_import
from readings.services.text_imports import text_import_run

from .conftest import SAMPLE
from .documents import ESSAY_PDF, MANIFESTO_EPUB

pytestmark = pytest.mark.django_db

ESSAY = SAMPLE.read_bytes()  # 46 kB: "large" once the threshold is lowered below it


@pytest.fixture(autouse=True)
def _small_threshold(settings):
    settings.IMPORT_ASYNC_BYTES = 10_000


def upload(api, user, group, data: bytes = ESSAY, name: str = SAMPLE.name, **fields):
    file = SimpleUploadedFile(name, data, content_type="text/plain")
    return api(user).post("/api/v1/texts/", {"group": group.id, "file": file, **fields}, format="multipart")


def status(api, user, import_id: int):
    return api(user).get(f"/api/v1/texts/imports/{import_id}/")


def test_large_upload_is_queued_with_202_and_location_and_imported_by_the_worker(
    world, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = upload(api, world.organizer, world.group, author="Study notes")
    job = TextImport.objects.get()

    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/texts/imports/{job.pk}/"
    assert response.json() == {"state": "queued", "progress": 0, "text": None, "error": None}
    assert len(queued) == 1  # the task is sent only once the request has committed
    assert (bytes(job.data), job.size_bytes, job.filename, job.author) == (
        ESSAY,
        len(ESSAY),
        SAMPLE.name,
        "Study notes",
    )
    assert not Text.objects.exists()

    text_import_run(import_id=job.pk)

    text = Text.objects.get()
    assert status(api, world.organizer, job.pk).json() == {
        "state": "done",
        "progress": 100,
        "text": text.pk,
        "error": None,
    }
    same = text_import(group=world.other_group, created_by=None, data=ESSAY, filename=SAMPLE.name)
    assert list(text.passages.values_list("position", "kind", "body")) == list(
        same.passages.values_list("position", "kind", "body")
    )
    assert (text.title, text.author, text.created_by) == (same.title, "Study notes", world.organizer)
    job.refresh_from_db()
    assert job.data is None  # the bytes are gone once the import ends


def test_json_content_over_the_threshold_is_queued_too(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api(world.facilitator).post(
            "/api/v1/texts/", {"group": world.group.id, "content": ESSAY.decode(), "format": "txt"}, format="json"
        )
    job = TextImport.objects.get()

    assert response.status_code == 202
    assert (job.format, job.created_by, bytes(job.data)) == ("txt", world.facilitator, ESSAY)


def test_upload_at_the_threshold_is_still_imported_in_the_request(world, api, settings):
    settings.IMPORT_ASYNC_BYTES = len(ESSAY)

    response = upload(api, world.organizer, world.group)

    assert response.status_code == 201
    assert response.json()["passage_count"] == Text.objects.get().passages.count()
    assert not TextImport.objects.exists()


def test_large_revision_is_queued_and_becomes_the_next_revision(world, api, django_capture_on_commit_callbacks):
    text = text_import(group=world.group, created_by=world.organizer, data=ESSAY, filename=SAMPLE.name)
    edited = ESSAY.replace(b"skilfully", b"skillfully")
    file = SimpleUploadedFile(SAMPLE.name, edited, content_type="text/plain")

    with django_capture_on_commit_callbacks(execute=False):
        response = api(world.facilitator).post(
            f"/api/v1/texts/{text.pk}/revisions/", {"file": file}, format="multipart"
        )
    job = TextImport.objects.get()
    text_import_run(import_id=job.pk)

    assert response.status_code == 202
    assert response["Location"] == f"/api/v1/texts/imports/{job.pk}/"
    assert status(api, world.facilitator, job.pk).json() == {
        "state": "done",
        "progress": 100,
        "text": text.pk,
        "error": None,
    }
    revision = TextRevision.objects.get(text=text, number=2)
    assert revision.changes == {"kept": revision.changes["kept"], "edited": 1, "added": 0, "retired": 0}
    assert Text.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100, "This file looks like a PNG image, not text."),
        (
            ("".join(f"{c}) H\n" for c in "abcdefghijklmnopqrstuvwxyz") * 120).encode(),
            "The text splits into 3,120 passages",
        ),
    ],
    ids=["binary", "too many passages"],
)
def test_an_import_that_cannot_be_read_fails_with_its_message_and_writes_nothing(
    world, api, settings, django_capture_on_commit_callbacks, data, error
):
    settings.TEXT_MAX_PASSAGES = 1000
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(api, world.organizer, world.group, data=data, name="big.txt")
    job = TextImport.objects.get()

    text_import_run(import_id=job.pk)

    body = status(api, world.organizer, job.pk).json()
    assert response.status_code == 202
    assert (body["state"], body["text"]) == ("failed", None)
    assert body["error"].startswith(error)
    assert (Text.objects.count(), Passage.objects.count(), TextRevision.objects.count()) == (0, 0, 0)
    job.refresh_from_db()
    assert job.data is None


def test_a_failure_while_storing_rolls_back_every_row(world, api, django_capture_on_commit_callbacks, monkeypatch):
    with django_capture_on_commit_callbacks(execute=False):
        upload(api, world.organizer, world.group)
    job = TextImport.objects.get()
    # The revision row is written last, after the text and its passages.
    monkeypatch.setattr(TextRevision.objects, "create", _raise_disk_full)

    text_import_run(import_id=job.pk)

    job.refresh_from_db()
    assert (job.state, job.error) == (
        "failed",
        "The import failed unexpectedly (OSError); try again, or tell an admin.",
    )
    assert (Text.objects.count(), Passage.objects.count()) == (0, 0)


def _raise_disk_full(**kwargs):
    raise OSError("No space left on device")


def test_over_the_size_limit_or_with_an_unknown_format_is_refused_in_the_request(world, api, settings):
    settings.TEXT_MAX_BYTES = 20_000

    too_big = upload(api, world.organizer, world.group)
    bad_format = upload(api, world.organizer, world.group, data=ESSAY[:15_000], format="docx")

    assert too_big.status_code == 400
    assert too_big.json()["detail"] == "file: The text is 0.0 MB; the limit is 0.0 MB. Split it into parts."
    assert bad_format.status_code == 400
    assert list(bad_format.json()["errors"]) == ["format"]
    assert not TextImport.objects.exists()


def test_the_worker_reports_progress_as_it_parses(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        upload(api, world.organizer, world.group)
    job = TextImport.objects.get()

    with CaptureQueriesContext(connection) as queries:
        text_import_run(import_id=job.pk)

    written = [
        int(match.group(1))
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "readings_textimport"')
        and (match := re.search(r'"progress" = (\d+)', query["sql"]))
    ]
    assert written[0] == 1  # claimed
    assert written == sorted(written)
    assert len(set(written)) > 10  # whole percents while the passages are analysed
    assert written[-1] == 100


def test_running_an_import_again_does_nothing(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        upload(api, world.organizer, world.group)
    job = TextImport.objects.get()

    first = text_import_run(import_id=job.pk)
    again = text_import_run(import_id=job.pk)

    assert (first.state, again.state, again.attempts) == ("done", "done", 1)
    assert Text.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "expected"), [("organizer", 200), ("facilitator", 200), ("member", 404), ("outsider", 404)]
)
def test_an_import_is_seen_by_those_who_may_import_into_its_group(
    world, api, django_capture_on_commit_callbacks, role, expected
):
    with django_capture_on_commit_callbacks(execute=False):
        upload(api, world.organizer, world.group)
    job = TextImport.objects.get()

    response = status(api, world.user(role), job.pk)

    assert response.status_code == expected
    if expected == 404:
        assert response.json() == {"detail": "No such import."}


def test_the_uploader_still_follows_their_import_after_losing_facilitator_rights(
    world, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        upload(api, world.facilitator, world.group)
    job = TextImport.objects.get()
    world.group.memberships.filter(user=world.facilitator).update(role="member")

    assert status(api, world.facilitator, job.pk).json()["state"] == "queued"


def test_the_uploader_no_longer_follows_their_import_once_out_of_the_group(
    world, api, client, django_capture_on_commit_callbacks
):
    from sessions_app.services.groups import membership_end

    with django_capture_on_commit_callbacks(execute=False):
        upload(api, world.facilitator, world.group)
    job = TextImport.objects.get()
    membership_end(membership=world.group.memberships.get(user=world.facilitator), leaving=True)
    client.force_login(world.facilitator)

    assert status(api, world.facilitator, job.pk).json() == {"detail": "No such import."}
    assert client.get(f"/texts/imports/{job.pk}/").status_code == 404


def test_members_cannot_queue_an_import(world, api):
    response = upload(api, world.member, world.group)

    assert response.status_code == 403
    assert not TextImport.objects.exists()


# --- The import page -----------------------------------------------------------------------------


def test_import_page_sends_a_large_file_to_the_worker_and_follows_it_to_the_text(
    world, client, django_capture_on_commit_callbacks
):
    client.force_login(world.organizer)
    with django_capture_on_commit_callbacks(execute=False):
        posted = client.post(
            f"/groups/{world.group.pk}/texts/import/",
            {"file": SimpleUploadedFile(SAMPLE.name, ESSAY), "title": "", "author": "", "source": ""},
        )
    job = TextImport.objects.get()
    waiting = client.get(posted["Location"])
    text_import_run(import_id=job.pk)
    done = client.get(posted["Location"])

    assert posted.status_code == 302
    assert posted["Location"] == f"/texts/imports/{job.pk}/"
    assert waiting.status_code == 200
    assert waiting.context["status_url"] == f"/api/v1/texts/imports/{job.pk}/"
    assert '<progress id="import-progress" max="100" value="0">0%</progress>' in waiting.text
    assert "/static/js/import-progress.js" in waiting.text
    assert done.status_code == 302
    assert done["Location"] == f"/texts/{Text.objects.get().pk}/"


def test_import_page_from_the_reading_picker_goes_back_to_it_with_the_text(
    world, client, django_capture_on_commit_callbacks
):
    client.force_login(world.organizer)
    back = f"/sessions/{world.session.pk}/readings/new/"
    with django_capture_on_commit_callbacks(execute=False):
        posted = client.post(
            f"/groups/{world.group.pk}/texts/import/", {"file": SimpleUploadedFile(SAMPLE.name, ESSAY), "next": back}
        )
    text_import_run(import_id=TextImport.objects.get().pk)

    done = client.get(posted["Location"])

    assert done["Location"] == f"{back}?text={Text.objects.get().pk}"


def test_import_page_of_a_failed_import_says_why(world, client, django_capture_on_commit_callbacks):
    client.force_login(world.organizer)
    with django_capture_on_commit_callbacks(execute=False):
        posted = client.post(
            f"/groups/{world.group.pk}/texts/import/",
            {"file": SimpleUploadedFile("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100)},
        )
    text_import_run(import_id=TextImport.objects.get().pk)

    page = client.get(posted["Location"])

    assert page.status_code == 200
    assert "<strong>The import failed.</strong> This file looks like a PNG image, not text." in page.text
    assert not Text.objects.exists()


def test_import_page_is_404_for_a_member_of_the_group(world, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        upload_client = client
        upload_client.force_login(world.organizer)
        posted = upload_client.post(
            f"/groups/{world.group.pk}/texts/import/", {"file": SimpleUploadedFile(SAMPLE.name, ESSAY)}
        )
    client.force_login(world.member)

    assert client.get(posted["Location"]).status_code == 404


# --- EPUB and PDF ----------------------------------------------------------------------------------


def test_a_long_pdf_goes_to_the_worker_whatever_its_size(world, api, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_BYTES = 10_000_000
    settings.IMPORT_ASYNC_PDF_PAGES = 10  # the essay's PDF has 28 pages
    pdf = ESSAY_PDF.read_bytes()

    with django_capture_on_commit_callbacks(execute=False):
        response = upload(api, world.organizer, world.group, data=pdf, name="essay.pdf")
    job = TextImport.objects.get()
    text_import_run(import_id=job.pk)

    text = Text.objects.get()
    assert response.status_code == 202
    assert status(api, world.organizer, job.pk).json() == {
        "state": "done",
        "progress": 100,
        "text": text.pk,
        "error": None,
    }
    same = text_import(group=world.other_group, created_by=None, data=pdf, filename="essay.pdf")
    assert list(text.passages.values_list("kind", "body", "footnotes")) == list(
        same.passages.values_list("kind", "body", "footnotes")
    )


def test_a_short_pdf_is_still_imported_in_the_request(world, api, settings):
    settings.IMPORT_ASYNC_BYTES = 10_000_000  # IMPORT_ASYNC_PDF_PAGES stays 50; the PDF has 28 pages

    response = upload(api, world.organizer, world.group, data=ESSAY_PDF.read_bytes(), name="essay.pdf")

    assert response.status_code == 201
    assert not TextImport.objects.exists()


def test_chosen_chapters_of_a_large_epub_go_to_the_worker_with_it(
    world, api, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_ASYNC_BYTES = 1000
    epub = MANIFESTO_EPUB.read_bytes()
    file = SimpleUploadedFile("manifesto.epub", epub, content_type="application/epub+zip")

    with django_capture_on_commit_callbacks(execute=False):
        response = api(world.organizer).post(
            "/api/v1/texts/", {"group": world.group.id, "file": file, "chapters": ["chapter-1"]}, format="multipart"
        )
    job = TextImport.objects.get()
    text_import_run(import_id=job.pk)

    text = Text.objects.get()
    same = text_import(group=world.other_group, created_by=None, data=epub, filename="m.epub", chapters=["chapter-1"])
    assert (response.status_code, job.chapters) == (202, ["chapter-1"])
    assert text.title == same.title
    assert list(text.passages.values_list("body", flat=True)) == list(same.passages.values_list("body", flat=True))
