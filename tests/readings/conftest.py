"""Readings fixtures: the sample essay, a session that reads part of it, and the real parts behind pack files."""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest
from django.conf import settings as django_settings
from django.db import connection

from readings.models import Passage, ReadingAssignment, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import

from ..conftest import service_unavailable
from ..reminders.realparts import Worker, database_url, redis_answers

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


@pytest.fixture
def essay(world) -> Text:
    return text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)


def at(text: Text, position: int) -> Passage:
    return text.passages.get(position=position, retired=False)


@pytest.fixture
def reading(world, essay) -> ReadingAssignment:
    """Passages 10–25 of the essay, assigned to the world's session."""
    return assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))


@dataclass
class PackStore:
    """The shared cache a deployment renders pack files into: Redis, under this test's own key prefix."""

    url: str
    prefix: str

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def stored(self) -> set[str]:
        """The keys this test's code stored, without the prefix."""
        return {key.decode().split(":", 2)[2] for key in self.client().scan_iter(f"{self.prefix}:*")}


@pytest.fixture
def pack_store(settings) -> Iterator[PackStore]:
    """Pack files go to Redis (REDIS_URL) as in production, not to a per-process cache; removed afterwards."""
    url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not url:
        service_unavailable("Redis", "REDIS_URL is not set")
    if not redis_answers(url):
        service_unavailable("Redis", f"nothing answers at {url}")
    store = PackStore(url=url, prefix=f"test-{uuid4().hex[:12]}")
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {"default": {"BACKEND": redis_cache, "LOCATION": url, "KEY_PREFIX": store.prefix}}
    yield store
    client = store.client()
    keys = list(client.scan_iter(f"{store.prefix}:*"))
    if keys:
        client.delete(*keys)


@dataclass
class RenderWorker:
    """A real `celery -A config worker` on this test's own render queue, sharing its database and cache."""

    store: PackStore
    log: Path
    queue: str = field(default_factory=lambda: f"packs-test-{uuid4().hex[:10]}")
    process: Worker | None = None

    def start(self) -> "RenderWorker":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": self.store.url,
            "CELERY_BROKER_URL": self.store.url,
            "CACHE_KEY_PREFIX": self.store.prefix,
            "REQUIRE_SERVICES": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = Worker("packs", env=env, log=self.log, queue=self.queue)
        self.process.start()
        self.process.wait_ready()
        return self

    def queued(self) -> int:
        """Render tasks waiting in the queue."""
        return self.store.client().llen(self.queue)

    def renders(self, fmt: str = "pdf") -> int:
        """Renders the worker made, from its log."""
        return self.process.output().count(f"rendered the {fmt} pack of session") if self.process else 0

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)
        bindings = (f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        self.store.client().delete(self.queue, *bindings)


@pytest.fixture
def render_worker(pack_store, settings, transactional_db, tmp_path) -> Iterator[RenderWorker]:
    """A render worker (not yet started: `render_worker.start()`); the web side queues renders to its queue."""
    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "a worker process needs a database it shares with the test")
    worker = RenderWorker(store=pack_store, log=tmp_path / "packs-worker.log")
    settings.PACK_RENDER_QUEUE = worker.queue
    yield worker
    worker.stop()
