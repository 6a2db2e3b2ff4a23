"""The Celery app. Tasks live in each app's `tasks.py`; beat's schedule is here.

Workers and beat also report that they are alive, for `/api/v1/health/`
(`config/health.py`): `WorkerHeartbeat` while a worker consumes, `BeatScheduler`
on each tick of beat.
"""

import os

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("studycircle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Writes the worker's heartbeat now and every WORKER_HEARTBEAT_SECONDS while its consumer runs.

    A consumer step on the consumer's own timer: it stops when the worker loses
    the broker or shuts down, so a worker that cannot take tasks stops reporting.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs):
        self.timer_entry = None
        super().__init__(parent, **kwargs)

    def start(self, consumer):
        from django.conf import settings

        from .health import record_worker_heartbeat

        record_worker_heartbeat()
        self.timer_entry = consumer.timer.call_repeatedly(settings.WORKER_HEARTBEAT_SECONDS, record_worker_heartbeat)

    def stop(self, consumer):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop


app.steps["consumer"].add(WorkerHeartbeat)


class BeatScheduler(PersistentScheduler):
    """Celery's file-backed scheduler (`--schedule`), recording each tick for the health check."""

    def tick(self, *args, **kwargs):
        from .health import record_beat_tick

        record_beat_tick()
        return super().tick(*args, **kwargs)
