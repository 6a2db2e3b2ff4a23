"""Thin Celery tasks: they take primitives and call services. A TextImport row holds an import's state and bytes."""

import logging

from celery import shared_task

from .services.pack_files import pack_file_render
from .services.text_imports import text_import_run, text_imports_resume

logger = logging.getLogger("readings.tasks")


@shared_task(name="readings.render_pack", acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def render_pack(session_id: int, user_id: int, fmt: str, version: str) -> None:
    """Render one person's PDF or EPUB pack into the shared cache. Idempotent: a stored file is not made again."""
    pack_file_render(session_id=session_id, user_id=user_id, fmt=fmt, version=version)


@shared_task(name="readings.run_text_import", acks_late=True, ignore_result=True)
def run_text_import(import_id: int) -> str | None:
    """Import one queued upload. A repeat (redelivery, a resumed import) finds it claimed or ended and does nothing."""
    job = text_import_run(import_id=import_id)
    if job is None:
        logger.info("text import %s: gone", import_id)
        return None
    logger.info("text import %s: %s", import_id, job.state)
    return job.state


@shared_task(name="readings.resume_text_imports", acks_late=True, ignore_result=True)
def resume_text_imports() -> list[int]:
    """Beat's tick: queue again imports whose message was lost or whose worker died."""
    return text_imports_resume()
