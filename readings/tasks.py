"""Thin Celery tasks: they take primitives and call services."""

from celery import shared_task

from .services.pack_files import pack_file_render


@shared_task(name="readings.render_pack", acks_late=True, ignore_result=True, soft_time_limit=90, time_limit=120)
def render_pack(session_id: int, user_id: int, fmt: str, version: str) -> None:
    """Render one person's PDF or EPUB pack into the shared cache. Idempotent: a stored file is not made again."""
    pack_file_render(session_id=session_id, user_id=user_id, fmt=fmt, version=version)
