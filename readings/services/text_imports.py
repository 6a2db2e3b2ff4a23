"""Imports too large for a request (`IMPORT_ASYNC_BYTES`): queued with their bytes in the database, run by a worker.

- `text_import_enqueue` (in the request) checks what it can without reading
  the text (size, format), stores the upload on a `TextImport` row and
  queues the task once the request's transaction commits.
- `text_import_run` (in the worker) claims the row, reads and parses the
  text outside any transaction, writing its progress on the row as it goes
  (so anyone polling sees it), then stores the text or the revision with the
  same services as a synchronous import, in one transaction: a failure
  leaves nothing half-written and marks the row `failed` with its message.
  Either way the stored bytes are dropped when the import ends.
- `text_imports_resume` (beat) queues again what a lost message or a dead
  worker left behind, and gives up after `MAX_ATTEMPTS`.
"""

import logging
from datetime import datetime, timedelta
from pathlib import PurePath

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.validators import single_line
from sessions_app.models import StudyGroup, User

from ..enums import ImportState
from ..models import Text, TextImport
from ..parsing import TextImportError, detect_binary_format
from ..parsing.pdf import inspect_pdf
from .importing import check_upload, pdf_limits, read_content, text_import, text_revise

logger = logging.getLogger("readings.imports")

MAX_ATTEMPTS = 3
# Progress while the text is read and parsed runs up to this; storing it takes the rest.
_PARSED = 90


def import_runs_in_worker(*, data: bytes, fmt: str | None = None, filename: str = "", content_type: str = "") -> bool:
    """Whether an upload is imported by a worker rather than in the request.

    Over IMPORT_ASYNC_BYTES; or a PDF of more than IMPORT_ASYNC_PDF_PAGES
    pages, because laying out a page costs 50–140 ms whatever the file's size
    (a 325-page PDF of 870 kB took 44 s). Counting pages lays out none. A
    PDF that cannot even be counted is left to the request, which refuses it.
    """
    if len(data) > settings.IMPORT_ASYNC_BYTES:
        return True
    wanted = (fmt or "").lower().lstrip(".")
    if wanted not in ("", "pdf"):
        return False
    if not wanted and detect_binary_format(data, filename=filename or None, content_type=content_type or None) != "pdf":
        return False
    try:
        _metadata, pages = inspect_pdf(data, pdf_limits())
    except TextImportError:
        return False
    return pages > settings.IMPORT_ASYNC_PDF_PAGES


def _queue(import_id: int) -> None:
    from ..tasks import run_text_import  # tasks import this module

    run_text_import.apply_async((import_id,), queue=settings.TEXT_IMPORT_QUEUE)


@transaction.atomic
def text_import_enqueue(
    *,
    group: StudyGroup,
    created_by: User | None,
    data: bytes,
    field: str = "file",
    filename: str = "",
    content_type: str = "",
    fmt: str | None = None,
    chapters: list[str] | None = None,
    title: str = "",
    author: str = "",
    source: str = "",
    revision_of: Text | None = None,
) -> TextImport:
    """Store an upload for a worker to import and queue it after commit; returns the queued row.

    Refuses at once (ValidationError naming `field` or `format`) what needs
    no reading: an upload over its format's size limit, or an unknown format.
    `chapters` picks an EPUB's chapters (all when None). With
    `revision_of`, the import becomes that text's next revision; otherwise a
    new text in `group` with the given title, author and source.
    """
    fmt = check_upload(data=data, fmt=fmt, field=field, filename=filename, content_type=content_type)
    job = TextImport.objects.create(
        group=group,
        created_by=created_by,
        revision_of=revision_of,
        data=data,
        size_bytes=len(data),
        filename=single_line(PurePath(filename).name)[:255] if filename else "",
        content_type=content_type[:100],
        format=fmt or "",
        chapters=chapters,
        title=title,
        author=author,
        source=source,
    )
    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _claim(import_id: int, now: datetime) -> TextImport | None:
    """Take the import for this run: queued, or running so long that its worker must have died."""
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    with transaction.atomic():
        job = (
            TextImport.objects.select_for_update()
            .filter(Q(state=ImportState.QUEUED) | Q(state=ImportState.RUNNING, started_at__lt=stale), pk=import_id)
            .first()
        )
        if job is None:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            _finish(job, state=ImportState.FAILED, error="The import did not finish after several tries.", now=now)
            return None
        job.state, job.attempts, job.started_at, job.progress = ImportState.RUNNING, job.attempts + 1, now, 1
        job.save(update_fields=["state", "attempts", "started_at", "progress"])
    return job


def _finish(job: TextImport, *, state: str, now: datetime, error: str = "", text: Text | None = None) -> None:
    job.state, job.error, job.text, job.data, job.finished_at = state, error, text, None, now
    job.progress = 100 if state == ImportState.DONE else job.progress
    job.save(update_fields=["state", "error", "text", "data", "finished_at", "progress"])


def _reporter(job: TextImport):
    """An `on_progress(done, total)` for the parser that writes whole percents (autocommit: pollers see them)."""
    last = job.progress

    def report(done: int, total: int) -> None:
        nonlocal last
        percent = max(2, _PARSED * done // total) if total else 2
        if percent > last:
            TextImport.objects.filter(pk=job.pk, attempts=job.attempts).update(progress=percent)
            last = percent

    return report


def _message(error: ValidationError) -> str:
    messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    return " ".join(message for problems in messages.values() for message in problems)


def text_import_run(*, import_id: int, now: datetime | None = None) -> TextImport | None:
    """Run one queued import to its end; safe to call again for the same id (a repeat finds nothing to do).

    The text is read and parsed outside any transaction, then stored in one:
    the row ends `done` (with the text) or `failed` (with a message a person
    can act on), and its stored bytes are dropped either way. A run that
    another run overtook (the import was claimed again) stores nothing.
    """
    now = now or timezone.now()
    job = _claim(import_id, now)
    if job is None:
        return TextImport.objects.filter(pk=import_id).first()
    try:
        data = bytes(job.data or b"")
        imported = read_content(
            data=data,
            fmt=job.format or None,
            filename=job.filename,
            content_type=job.content_type,
            chapters=job.chapters,
            on_progress=_reporter(job),
        )
        TextImport.objects.filter(pk=job.pk, attempts=job.attempts).update(progress=_PARSED)
        with transaction.atomic():
            current = TextImport.objects.select_for_update().get(pk=job.pk)
            if current.state != ImportState.RUNNING or current.attempts != job.attempts:
                return current  # overtaken by a later run
            if job.revision_of_id is not None:
                text = Text.objects.get(pk=job.revision_of_id)
                text_revise(text=text, created_by=job.created_by, chapters=job.chapters, imported=imported)
            else:
                text = text_import(
                    group=job.group,
                    created_by=job.created_by,
                    title=job.title,
                    author=job.author,
                    source=job.source,
                    data=data,
                    chapters=job.chapters,
                    imported=imported,
                )
            _finish(current, state=ImportState.DONE, text=text, now=timezone.now())
            return current
    except ValidationError as error:
        return _fail(job, _message(error))
    except SoftTimeLimitExceeded:
        return _fail(job, "The import took too long; split the text into parts and import them one by one.")
    except Exception as error:  # a bug must not leave the import "running" for ever
        logger.exception("text import %s failed", job.pk)
        return _fail(job, f"The import failed unexpectedly ({type(error).__name__}); try again, or tell an admin.")


def _fail(job: TextImport, message: str) -> TextImport:
    with transaction.atomic():
        current = TextImport.objects.select_for_update().get(pk=job.pk)
        if current.state == ImportState.RUNNING and current.attempts == job.attempts:
            _finish(current, state=ImportState.FAILED, error=message, now=timezone.now())
    return current


def text_imports_resume(*, now: datetime | None = None) -> list[int]:
    """Queue again the imports left behind: queued for over IMPORT_RESUME_SECONDS (the message was lost) or
    running past the task time limit (the worker died). Returns their ids; the run itself decides what to do.
    """
    now = now or timezone.now()
    waited = now - timedelta(seconds=settings.IMPORT_RESUME_SECONDS)
    died = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    ids = list(
        TextImport.objects.filter(
            Q(state=ImportState.QUEUED, created_at__lt=waited) | Q(state=ImportState.RUNNING, started_at__lt=died)
        ).values_list("pk", flat=True)
    )
    for import_id in ids:
        _queue(import_id)
    return ids
