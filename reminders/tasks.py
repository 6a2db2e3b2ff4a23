"""Thin Celery tasks: they take primitives and call services. The outbox rows hold the schedule and the retries."""

import logging

from celery import shared_task

from .services.dispatch import reminders_dispatch_due

logger = logging.getLogger("reminders.tasks")


@shared_task(name="reminders.dispatch_due_reminders", acks_late=True, ignore_result=True)
def dispatch_due_reminders(batch_size: int | None = None) -> dict[str, int]:
    """Beat's every-minute tick: one dispatch pass. Idempotent, so a redelivered tick only finds less to do."""
    result = reminders_dispatch_due(batch_size=batch_size)
    if result.claimed:
        logger.info("reminders: dispatch pass done: %s", result.as_dict())
    return result.as_dict()
