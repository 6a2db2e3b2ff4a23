"""Fixtures shared by every test: a group with one person in each role, and API clients."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.test import APIClient

from sessions_app.enums import Role
from sessions_app.models import Session, StudyGroup, User

from .factories import GroupFactory, MembershipFactory, SessionFactory, UserFactory
from .reminders.realparts import Worker, database_url, forget_unbound_deadlines, redis_answers, redis_keys

ROLES = ("anonymous", "outsider", "member", "facilitator", "organizer")


def service_unavailable(name: str, why: str) -> None:
    """Skip a test whose real service is missing; under REQUIRE_SERVICES=1 (CI) that is a failure."""
    message = f"service not available: {name} ({why})"
    if settings.REQUIRE_SERVICES or os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message + " and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


# Hypothesis (under schemathesis) keeps caches in ./.hypothesis/ by default: send them to a
# temporary folder of this run instead, so the suite writes nothing into the repository.
HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="studycircle-hypothesis-")
set_hypothesis_home_dir(HYPOTHESIS_HOME)


def pytest_unconfigure(config):
    shutil.rmtree(HYPOTHESIS_HOME, ignore_errors=True)


def pytest_sessionstart(session):
    if os.environ.get("REQUIRE_SERVICES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"REQUIRE_SERVICES=1 needs DATABASE_URL on PostgreSQL; got {engine}.")
        if not os.environ.get("REDIS_URL"):
            raise pytest.UsageError("REQUIRE_SERVICES=1 needs REDIS_URL.")
    if _runs_the_session(session) and os.environ.get("REDIS_URL"):
        session.config.stash[_REDIS_KEYS_BEFORE] = _redis_keys_or_none(os.environ["REDIS_URL"])


_REDIS_KEYS_BEFORE = pytest.StashKey[set | None]()


def _runs_the_session(session) -> bool:
    """True in the process that sees the whole run: not in an xdist worker."""
    return not hasattr(session.config, "workerinput")


def _redis_keys_or_none(url: str) -> set[bytes] | None:
    try:
        return redis_keys(url)
    except Exception:  # no Redis here: the tests that need it skip (or fail under REQUIRE_SERVICES)
        return None


def pytest_sessionfinish(session, exitstatus):
    """The suite leaves Redis as it found it: a key that was not there before the run fails the run."""
    before = session.config.stash.get(_REDIS_KEYS_BEFORE, None)
    if not _runs_the_session(session) or before is None:
        return
    after = _redis_keys_or_none(os.environ["REDIS_URL"])
    left = sorted((after or set()) - before)
    if left:
        shown = ", ".join(key.decode(errors="replace") for key in left[:20])
        session.config.get_terminal_writer().line(
            f"\nFAILED: the suite left {len(left)} key(s) in Redis at {os.environ['REDIS_URL']}: {shown}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def test_database_dropped_at_the_end(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The test database goes away after the run, even if a straggler still holds a connection to it.

    Child processes and the live server's threads close theirs as they stop; one that is still
    ending when the run finishes would make PostgreSQL refuse the DROP and leave the database behind.
    Runs its teardown just before pytest-django's, which drops the database.
    """
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


SCREENSHOTS_FIXTURE = "screenshots_dir"


@pytest.fixture(scope="session")
def screenshots_dir(tmp_path_factory) -> Path:
    """Where tests save pictures of what they see: a temporary folder, or `$SCREENSHOTS_DIR`.

    `make screenshots` sets SCREENSHOTS_DIR=docs/screenshots and runs the tests
    that use this fixture (marked `screenshots`), refreshing the README's pictures;
    any other run leaves the project's files alone.
    """
    chosen = os.environ.get("SCREENSHOTS_DIR")
    if not chosen:
        return tmp_path_factory.mktemp("screenshots")
    folder = Path(chosen).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_collection_modifyitems(items):
    marker = pytest.mark.screenshots
    for item in items:
        if SCREENSHOTS_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached packs must not leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _packs_match_their_schema(monkeypatch):
    """Every pack built in a test, for any role, is checked against the published schema (`tests/pack_schema.py`)."""
    import sys

    from readings.pack import builder

    from .pack_schema import pack_problems

    real = builder.build_pack

    def checked(*args, **kwargs):
        pack = real(*args, **kwargs)
        problems = pack_problems(pack)
        assert problems == [], f"the pack departs from its published schema: {problems[:5]}"
        return pack

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("readings", "pages", "bench") and getattr(module, "build_pack", None) is real:
            monkeypatch.setattr(module, "build_pack", checked)


@dataclass
class World:
    """A group with one person per role, a stranger in another group, and an upcoming session."""

    group: StudyGroup
    organizer: User
    facilitator: User
    member: User
    outsider: User
    other_group: StudyGroup
    session: Session

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(db) -> World:
    group = GroupFactory(name="Tuesday Readers", timezone="America/New_York")
    other_group = GroupFactory(name="Other Circle")
    people = {role: UserFactory(username=role) for role in ("organizer", "facilitator", "member", "outsider")}
    MembershipFactory(group=group, user=people["organizer"], role=Role.ORGANIZER)
    MembershipFactory(group=group, user=people["facilitator"], role=Role.FACILITATOR)
    MembershipFactory(group=group, user=people["member"], role=Role.MEMBER)
    MembershipFactory(group=other_group, user=people["outsider"], role=Role.ORGANIZER)
    session = SessionFactory(group=group, timezone="America/New_York", title="October, week one")
    session.facilitators.add(people["facilitator"])
    return World(group=group, other_group=other_group, session=session, **people)


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    """`api(user)` gives an API client signed in as `user` (None: anonymous)."""
    return client_for


# --- Pack files: the shared cache and a render worker (tests/readings, tests/browser) ------------


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
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
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
        forget_unbound_deadlines(self.store.client())


@pytest.fixture
def render_worker(pack_store, settings, transactional_db, tmp_path) -> Iterator[RenderWorker]:
    """A render worker (not yet started: `render_worker.start()`); the web side queues renders to its queue."""
    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "a worker process needs a database it shares with the test")
    worker = RenderWorker(store=pack_store, log=tmp_path / "packs-worker.log")
    settings.PACK_RENDER_QUEUE = worker.queue
    yield worker
    worker.stop()


@pytest.fixture
def scratch_databases(transactional_db):
    """Databases made beside the test database (see tests/scratch_databases.py); every one is dropped afterwards.

    Transactional: what the test writes is committed, so pg_dump sees it.
    """
    from .scratch_databases import ScratchDatabases

    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "pg_dump and pg_restore work on a PostgreSQL database")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        service_unavailable("pg_dump", "pg_dump and pg_restore are not on PATH")
    databases = ScratchDatabases(connection.settings_dict)
    try:
        yield databases
    finally:
        databases.drop_all()
