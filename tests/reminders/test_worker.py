"""Real parts: Celery worker processes on Redis, the test's PostgreSQL database, an aiosmtpd server here.

Each fault test counts what arrives at the SMTP server and ends with every
due reminder delivered. Rows are already due when the worker starts; the
test itself plays beat (a dispatch tick about every half second) while it
polls under a deadline. Leases and backoff are short (environment of the
worker), so a crash or an outage is recovered from in seconds.
"""

import contextlib
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from readings.services.questions import question_create
from reminders.emails import message_id
from reminders.models import NotificationPreference, Reminder
from sessions_app.services.groups import membership_add
from sessions_app.services.schedule import session_create

from ..conftest import service_unavailable
from ..factories import GroupFactory, UserFactory
from .realparts import RedisNamespace, RedisServer, SmtpRecorder, Worker, database_url, redis_answers, wait_for
from .test_services_dispatch import GONE_ZONE, GONE_ZONE_ERROR

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 6


class Beat:
    """The test's stand-in for celery beat: publishes the dispatch tick to the test's own queue."""

    def __init__(self, broker_url: str, queue: str, namespace: RedisNamespace) -> None:
        self.app = Celery("test-beat", broker=broker_url, set_as_current=False)
        self.app.conf.broker_connection_timeout = 1
        self.app.conf.broker_transport_options = namespace.transport_options
        self.queue = queue
        self.published = 0

    def __call__(self) -> None:
        # Broker down: beat logs it and tries again at the next tick; so do we.
        with contextlib.suppress(Exception):
            self.app.send_task(
                "reminders.dispatch_due_reminders",
                queue=self.queue,
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0.1, "interval_step": 0.1, "interval_max": 0.2},
            )
            self.published += 1

    def close(self) -> None:
        self.app.close()


@dataclass
class Rig:
    """One test's real parts: an SMTP recorder, worker processes, a private queue and key prefix on a broker."""

    tmp: Path
    broker_url: str
    namespace: RedisNamespace
    smtp: SmtpRecorder = field(default_factory=SmtpRecorder)
    queue: str = field(default_factory=lambda: f"reminders-test-{uuid4().hex[:10]}")
    processes: list = field(default_factory=list)
    beats: dict = field(default_factory=dict)

    def env(self, broker_url: str) -> dict[str, str]:
        return {
            **os.environ,
            **self.namespace.settings_env(self.tmp),
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "SITE_URL": settings.SITE_URL,
            "DATABASE_URL": database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": broker_url,
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp.port}",
            "EMAIL_TIMEOUT": "2",
            "REMINDER_BATCH_SIZE": "5",
            "REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
            "REMINDER_RETRY_BASE_SECONDS": "1",
            "REMINDER_RETRY_MAX_SECONDS": "1",
            "REMINDER_DISPATCH_MAX_SECONDS": "20",
            "REQUIRE_SERVICES": "0",
            "PYTHONUNBUFFERED": "1",
        }

    def worker(self, name: str, *, broker_url: str | None = None) -> Worker:
        worker = Worker(
            name, env=self.env(broker_url or self.broker_url), log=self.tmp / f"{name}.log", queue=self.queue
        )
        self.processes.append(worker)
        worker.start()
        worker.wait_ready()
        return worker

    def beat(self, broker_url: str | None = None) -> Beat:
        url = broker_url or self.broker_url
        if url not in self.beats:
            self.beats[url] = Beat(url, self.queue, self.namespace)
        return self.beats[url]

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=5)
        for beat in self.beats.values():
            beat.close()
        self.smtp.stop()
        self.namespace.delete()


@pytest.fixture
def rig(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        service_unavailable("PostgreSQL", "a worker process needs a database it shares with the test")
    broker_url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not broker_url:
        service_unavailable("Redis", "REDIS_URL is not set")
    if not redis_answers(broker_url):
        service_unavailable("Redis", f"nothing answers at {broker_url}")
    rig = Rig(tmp=tmp_path, broker_url=broker_url, namespace=RedisNamespace(broker_url))
    rig.smtp.start()
    with publishing_under(rig.namespace):
        yield rig
    rig.close()


@contextlib.contextmanager
def publishing_under(namespace: RedisNamespace):
    """Tasks this process queues (a request in the test or its live server) go under the rig's key prefix."""
    from kombu import pools

    from config.celery import app

    saved = app.conf.broker_transport_options

    # Producer pools keep the options of the connection they were made with: start new ones on each side.
    def fresh_pools() -> None:
        pools.reset()
        app._pool = app.amqp._producer_pool = None

    fresh_pools()
    app.conf.broker_transport_options = namespace.transport_options
    try:
        yield
    finally:
        fresh_pools()
        app.conf.broker_transport_options = saved


def due_reminders(members: int) -> list[Reminder]:
    """A group of `members` and a session starting in an hour: a `reading` and a `starting` row each, both due."""
    group = GroupFactory()
    for user in UserFactory.create_batch(members):
        membership_add(group=group, user=user)
    starts = timezone.now() + timedelta(hours=1)
    session = session_create(group=group, title="Worker test", starts_at=starts, ends_at=starts + timedelta(hours=1))
    question_create(session=session, author=None, prompt="What is the text's main claim?")
    rows = list(Reminder.objects.filter(session=session))
    assert len(rows) == 2 * members
    return rows


def all_sent(rows: list[Reminder]) -> bool:
    return Reminder.objects.filter(pk__in=[row.pk for row in rows], state="sent").count() == len(rows)


def arrivals(smtp: SmtpRecorder) -> Counter:
    return Counter(received.message_id for received in smtp.received)


def test_worker_delivers_every_due_reminder_exactly_once(rig):
    rows = due_reminders(10)
    rig.worker("w1")

    wait_for(lambda: all_sent(rows), timeout=60, tick=rig.beat(), what="every reminder to be sent")

    assert arrivals(rig.smtp) == {message_id(row): 1 for row in rows}
    received = {r.message_id: r for r in rig.smtp.received}[message_id(rows[0])]
    assert received.to == (rows[0].recipient.email,)
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_worker_killed_mid_batch_then_restarted_loses_nothing_and_repeats_at_most_one(rig):
    rig.smtp.delay = 0.15  # 5 rows a batch take 0.75 s: time to be caught in the middle of one
    rows = due_reminders(15)
    worker = rig.worker("w1")
    wait_for(lambda: len(rig.smtp.received) >= 7, timeout=60, tick=rig.beat(), what="the second batch to be underway")

    worker.kill()
    left_leased = Reminder.objects.filter(pk__in=[row.pk for row in rows], state="sending").count()
    worker.start()
    worker.wait_ready()
    wait_for(lambda: all_sent(rows), timeout=60, tick=rig.beat(), what="every reminder to be sent after the restart")

    counts = arrivals(rig.smtp)
    assert left_leased >= 1
    assert set(counts) == {message_id(row) for row in rows}
    assert sum(counts.values()) - len(counts) <= 1  # at most the one message in flight at the kill
    ids_per_email = defaultdict(set)
    for received in rig.smtp.received:
        ids_per_email[(received.to, received.subject)].add(received.message_id)
    assert {len(ids) for ids in ids_per_email.values()} == {1}  # a repeat carries the same Message-ID
    assert len(ids_per_email) == len(rows)


def test_smtp_server_down_then_back_delivers_each_reminder_exactly_once(rig):
    rig.smtp.stop()  # the port stays reserved for the server's return
    rows = due_reminders(5)
    rig.worker("w1")
    wait_for(
        lambda: Reminder.objects.filter(attempts__gte=2, last_error__startswith="Could not connect").exists(),
        timeout=60,
        tick=rig.beat(),
        what="the worker to retry while the SMTP server is down",
    )
    nothing_sent_while_down = Reminder.objects.filter(state="sent").count()

    rig.smtp.start(rig.smtp.port)
    wait_for(lambda: all_sent(rows), timeout=60, tick=rig.beat(), what="every reminder to be sent once SMTP is back")

    assert nothing_sent_while_down == 0
    assert arrivals(rig.smtp) == {message_id(row): 1 for row in rows}


def test_redis_restarted_while_the_worker_runs_delivers_each_reminder_exactly_once(rig, tmp_path):
    if not RedisServer.binary():
        service_unavailable("redis-server", "the binary is not on PATH")
    redis_server = RedisServer(tmp_path / "redis.log").start()
    rig.processes.append(redis_server)
    beat = rig.beat(redis_server.url)
    rig.smtp.delay = 0.1
    first = due_reminders(10)
    rig.worker("w1", broker_url=redis_server.url)
    wait_for(lambda: len(rig.smtp.received) >= 3, timeout=60, tick=beat, what="sending to be underway")

    redis_server.stop()  # no persistence: every queued and unacknowledged message is gone
    second = due_reminders(5)  # planned while the broker is down
    redis_server.start()
    wait_for(lambda: all_sent(first + second), timeout=90, tick=beat, what="every reminder to be sent")

    assert arrivals(rig.smtp) == {message_id(row): 1 for row in first + second}


def test_two_workers_at_once_deliver_each_reminder_exactly_once(rig):
    rig.smtp.delay = 0.05
    rows = due_reminders(20)
    workers = [rig.worker("w1"), rig.worker("w2")]
    beat = rig.beat()
    for _ in range(4):  # ticks enough for both workers to run a pass at the same time
        beat()

    wait_for(lambda: all_sent(rows), timeout=60, tick=beat, what="every reminder to be sent")

    assert arrivals(rig.smtp) == {message_id(row): 1 for row in rows}
    sent_by = [
        sum(map(int, re.findall(r"batch of \d+: \{'claimed': \d+, 'sent': (\d+)", worker.output())))
        for worker in workers
    ]
    assert sum(sent_by) == len(rows)
    assert min(sent_by) > 0, sent_by  # both took part


def test_a_reminder_that_cannot_be_built_fails_alone_and_the_worker_delivers_the_rest(rig):
    rows = due_reminders(6)
    broken = rows[0].recipient
    # A zone name the tz database no longer has: building this person's emails raises.
    NotificationPreference.objects.create(user=broken, timezone=GONE_ZONE)
    rig.worker("w1")

    def settled():
        return not Reminder.objects.filter(pk__in=[row.pk for row in rows], state__in=["pending", "sending"]).exists()

    wait_for(settled, timeout=60, tick=rig.beat(), what="every reminder to be sent or failed")

    others = [row for row in rows if row.recipient_id != broken.pk]
    assert arrivals(rig.smtp) == {message_id(row): 1 for row in others}
    assert set(
        Reminder.objects.filter(pk__in=[row.pk for row in rows], recipient=broken).values_list(
            "kind", "state", "last_error"
        )
    ) == {(kind, "failed", GONE_ZONE_ERROR) for kind in ("reading", "starting")}
    assert all_sent(others)


def test_worker_sends_the_facilitator_brief_once_with_who_has_read_and_where_members_got_stuck(rig):
    from readings.services.assignments import assignment_create
    from readings.services.importing import text_import
    from readings.services.notes import note_create
    from readings.services.progress import progress_record
    from sessions_app.enums import Role

    group = GroupFactory()
    lead, reader, absent = (UserFactory(username=name) for name in ("lead", "reader", "absent"))
    membership_add(group=group, user=lead, role=Role.FACILITATOR)
    membership_add(group=group, user=reader)
    membership_add(group=group, user=absent)
    starts = timezone.now() + timedelta(hours=1)  # within BRIEF_HOURS_BEFORE: the brief is due at once
    session = session_create(
        group=group, title="Brief test", starts_at=starts, ends_at=starts + timedelta(hours=1), facilitators=[lead.pk]
    )
    text = text_import(group=group, created_by=lead, content="Title\n\nOne two three.\n\nFour five six?")
    first, second = text.passages.filter(position__in=[2, 3]).order_by("position")
    assignment_create(session=session, text=text, start_passage=first, end_passage=second)
    progress_record(user=reader, session=session, passages=[first])
    note_create(author=reader, passage=second, body="Why six?", visibility="group", tags=["question"])
    note_create(author=absent, passage=second, body="My secret doubt?", visibility="private")
    (brief,) = Reminder.objects.filter(session=session, kind="brief")
    assert brief.recipient == lead
    rig.worker("w1")

    wait_for(lambda: all_sent([brief]), timeout=60, tick=rig.beat(), what="the brief to be sent")

    assert arrivals(rig.smtp)[message_id(brief)] == 1
    received = {r.message_id: r for r in rig.smtp.received}[message_id(brief)]
    text_body = received.message.get_body(("plain",)).get_content()
    assert received.to == (lead.email,)
    assert "§3 of Title: 1 note asking" in text_body
    assert f"- {absent.name}: 0% · not opened" in text_body
    assert "secret" not in received.message.as_string()
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
