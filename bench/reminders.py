"""Benchmark: reminder planning and dispatch.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle REDIS_URL=redis://127.0.0.1:6379/0 \
      .venv/bin/python bench/reminders.py`

- Planning: the reminders of one session of a 500-member group (create, and
  a reschedule that moves them and sends `changed` notices): queries and ms.
- Dispatch: 10,000 due reminders (200 sessions × 50 members; half `reading`
  with texts and questions, half `starting` with an .ics) sent by one real
  Celery worker on Redis to an aiosmtpd server in its own process, with
  beat's tick published every 2 s. Twice: with one prefork process, and with
  two (the default on a 2-core machine, and what docker-compose runs), where
  two dispatch passes claim batches side by side.
- Baseline: plain smtplib sending the same 10,000 messages (pre-rendered)
  over one connection to the same server.
- Queries per reminder: the same dispatch pass run in this process under
  Django's query capture (the worker runs this very code).

Targets: dispatch ≥ 0.5× the smtplib rate; planning a 500-member group in ≤ 20 queries.
"""

import logging
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from _django import ROOT, machine, throwaway_database
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.questions import question_create
from reminders.emails import SessionContent, build_reminder_email
from reminders.models import Reminder
from reminders.selectors import accepted_questions, reading_assignments
from reminders.services.dispatch import reminders_dispatch_due
from reminders.services.planning import reminders_plan_for_session, session_email
from sessions_app.models import Membership, Session, StudyGroup, User

SESSIONS, MEMBERS, PLANNING_MEMBERS = 200, 50, 500
TOTAL = SESSIONS * MEMBERS
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
QUEUE = f"bench-reminders-{os.getpid()}"

# An SMTP server in its own process that accepts everything and counts; "count" on stdin prints the count.
SINK = """
import sys, threading
from aiosmtpd.controller import Controller
class Counting:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counting.count += 1
        return "250 OK"
controller = Controller(Counting(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    print(Counting.count, flush=True)
controller.stop()
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SINK, str(self.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "ready"

    def count(self) -> int:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def users(prefix: str, count: int) -> list[User]:
    password = make_password("bench")
    User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{n}", email=f"{prefix}{n}@example.org", display_name=f"Reader {n}", password=password
            )
            for n in range(count)
        ]
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("pk"))


def group_of(name: str, people: list[User]) -> StudyGroup:
    group = StudyGroup.objects.create(name=name, slug=name.lower().replace(" ", "-"), timezone="Europe/London")
    Membership.objects.bulk_create([Membership(group=group, user=user) for user in people])
    return group


def bench_planning() -> dict:
    """Queries and ms to plan, then reschedule, one session of a 500-member group."""
    group = group_of("Planning", users("planner", PLANNING_MEMBERS))
    starts = timezone.now().replace(microsecond=0) + timedelta(days=10)
    session = Session.objects.create(
        group=group, title="Planned", starts_at=starts, ends_at=starts + timedelta(hours=1), timezone="Europe/London"
    )
    with CaptureQueriesContext(connection) as create:
        began = time.perf_counter()
        created = reminders_plan_for_session(session=session)
        create_ms = (time.perf_counter() - began) * 1000
    Reminder.objects.filter(session=session, kind="reading").update(state="sent", sent_at=timezone.now())
    previous, session.starts_at, session.ends_at = (
        starts,
        starts + timedelta(days=1),
        starts + timedelta(days=1, hours=1),
    )
    session.save()
    with CaptureQueriesContext(connection) as move:
        began = time.perf_counter()
        moved = reminders_plan_for_session(session=session, previous_starts_at=previous)
        move_ms = (time.perf_counter() - began) * 1000
    Reminder.objects.filter(session=session).delete()  # not part of the dispatch run
    return {
        "create": (len(create), create_ms, created),
        "reschedule": (len(move), move_ms, moved),
    }


def dispatch_fixture() -> list[int]:
    """200 sessions × 50 members, one due reminder each: even sessions `reading`, odd ones `starting`."""
    people = users("reader", MEMBERS)
    group = group_of("Dispatch", people)
    essay_path = ROOT / "sample-texts" / "october-revolution-study-notes.txt"
    essay = text_import(group=group, created_by=people[0], data=essay_path.read_bytes(), filename=essay_path.name)
    start_passage, end_passage = (essay.passages.get(position=p, retired=False) for p in (10, 40))
    now = timezone.now().replace(microsecond=0)
    sessions = Session.objects.bulk_create(
        [
            Session(
                group=group,
                title=f"Week {n + 1}",
                starts_at=now + timedelta(days=1, hours=n),
                ends_at=now + timedelta(days=1, hours=n, minutes=90),
                timezone="Europe/London",
                location="Library, room 2",
                online_url="https://meet.example.org/circle",
            )
            for n in range(SESSIONS)
        ]
    )
    rows = []
    for n, session in enumerate(sessions):
        kind = "reading" if n % 2 == 0 else "starting"
        if kind == "reading":
            assignment_create(session=session, text=essay, start_passage=start_passage, end_passage=end_passage)
            for prompt in ("What is the main claim?", "Which evidence is weakest?", "What would you ask the author?"):
                question_create(session=session, author=people[0], prompt=prompt, minutes=10)
        rows += [
            session_email(
                session_id=session.pk,
                recipient_id=person.pk,
                kind=kind,
                starts_at=session.starts_at,
                due_at=now - timedelta(minutes=1),
            )
            for person in people
        ]
    created = Reminder.objects.bulk_create(rows, batch_size=2000)
    return [row.pk for row in created]


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def reset(ids: list[int]) -> None:
    """Every dispatch row back to due and untried, for the next run."""
    Reminder.objects.filter(pk__in=ids).update(
        state="pending", attempts=0, sent_at=None, lease_until=None, last_error="", next_attempt_at=F("due_at")
    )


def sent_count() -> int:
    """Rows sent so far (the planning rows are gone by now; a cheap count, polled while the worker runs)."""
    return Reminder.objects.filter(state="sent").count()


def bench_worker(sink: Sink, ids: list[int], concurrency: int) -> tuple[float, int]:
    """Seconds for one real worker to send every due reminder, and how many the server counted."""
    from celery import Celery

    reset(ids)
    log = Path(tempfile.mkdtemp()) / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "LOG_LEVEL": "WARNING",
    }
    args = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", f"--concurrency={concurrency}"]
    args += ["--loglevel=INFO", "-Q", QUEUE, "-n", "bench@%h", "--without-mingle", "--without-gossip"]
    with log.open("wb") as out:
        worker = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    beat = Celery("bench-beat", broker=REDIS_URL, set_as_current=False)
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the worker did not start in a minute"
            time.sleep(0.1)
        before = sink.count()
        began = time.perf_counter()
        for _ in range(concurrency - 1):
            beat.send_task("reminders.dispatch_due_reminders", queue=QUEUE)
        next_tick = 0.0
        while sent_count() < len(ids):
            if time.perf_counter() >= next_tick:  # beat's tick, every 2 s instead of every minute
                beat.send_task("reminders.dispatch_due_reminders", queue=QUEUE)
                next_tick = time.perf_counter() + 2
            assert time.perf_counter() - began < 600, "the worker did not finish in 10 minutes"
            time.sleep(0.2)
        elapsed = time.perf_counter() - began
        return elapsed, sink.count() - before
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        beat.close()
        import redis

        redis.Redis.from_url(REDIS_URL).delete(QUEUE)


def rendered_messages(ids: list[int]) -> list[tuple[str, list[str], bytes]]:
    """The same 10,000 emails, rendered and encoded here, for the smtplib baseline."""
    reminders = list(
        Reminder.objects.filter(pk__in=ids)
        .select_related("session__group", "recipient__notification_preference")
        .order_by("pk")
    )
    contents: dict[int, SessionContent] = {}
    messages = []
    for reminder in reminders:
        content = contents.get(reminder.session_id)
        if content is None:
            content = contents[reminder.session_id] = SessionContent(session=reminder.session)
            if reminder.kind == "reading":
                content.readings = reading_assignments(reminder.session)
                content.questions = accepted_questions(reminder.session, reminder.recipient)
        email = build_reminder_email(reminder, content)
        messages.append((email.from_email, [reminder.recipient.email], email.message().as_bytes(linesep="\r\n")))
    return messages


def bench_smtplib(sink: Sink, messages) -> tuple[float, int]:
    before = sink.count()
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for sender, recipients, data in messages:
            smtp.sendmail(sender, recipients, data)
    return time.perf_counter() - began, sink.count() - before


class QueryCounter:
    """A database execute wrapper that counts statements (Django's query log keeps only the last 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def bench_in_process(sink: Sink, ids: list[int]) -> tuple[float, int]:
    """The same dispatch in this process, counting its queries."""
    reset(ids)
    counter = QueryCounter()
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ),
        connection.execute_wrapper(counter),
    ):
        began = time.perf_counter()
        result = reminders_dispatch_due(max_seconds=600)
        elapsed = time.perf_counter() - began
    assert result.sent == len(ids), result
    return elapsed, counter.count


def main() -> None:
    logging.getLogger("reminders").setLevel(logging.WARNING)  # no line per batch here
    with throwaway_database():
        planning = bench_planning()
        ids = dispatch_fixture()
        sink = Sink()
        try:
            workers = {concurrency: bench_worker(sink, ids, concurrency) for concurrency in (1, 2)}
            messages = rendered_messages(ids)
            smtplib_s, smtplib_received = bench_smtplib(sink, messages)
            in_process_s, queries = bench_in_process(sink, ids)
        finally:
            sink.stop()
        print(f"Machine: {machine()}")
        print(f"Broker: {REDIS_URL.split('@')[-1]}; SMTP: aiosmtpd in its own process on 127.0.0.1")
        print()
        print(f"Planning one session of a {PLANNING_MEMBERS}-member group:")
        for label, (count, ms, result) in planning.items():
            print(f"  {label:<11}{count:>3} queries {ms:>8.1f} ms   {result}")
        print()
        print(f"Dispatching {TOTAL:,} due reminders ({SESSIONS} sessions × {MEMBERS} members):")
        smtplib_rate = TOTAL / smtplib_s
        for concurrency, (seconds, received) in workers.items():
            print(
                f"  celery worker, concurrency {concurrency}  {seconds:>7.2f} s {TOTAL / seconds:>8,.0f} reminders/s"
                f"  {TOTAL / seconds / smtplib_rate:.2f}× smtplib  (server counted {received:,})"
            )
        print(
            f"  in-process dispatch         {in_process_s:>7.2f} s {TOTAL / in_process_s:>8,.0f} reminders/s"
            f"  {queries / TOTAL:.3f} queries/reminder ({queries:,} queries)"
        )
        print(
            f"  plain smtplib, 1 connection {smtplib_s:>7.2f} s {smtplib_rate:>8,.0f} messages/s"
            f"   (server counted {smtplib_received:,}; messages rendered beforehand)"
        )
        print()
        for concurrency, (seconds, _received) in workers.items():
            ratio = TOTAL / seconds / smtplib_rate
            print(
                f"worker (concurrency {concurrency}) ≥ 0.5× smtplib: {'yes' if ratio >= 0.5 else 'NO'} ({ratio:.2f}×)"
            )
        plan_queries = max(count for count, _ms, _result in planning.values())
        verdict = "yes" if plan_queries <= 20 else "NO"
        print(f"planning ≤ 20 queries for {PLANNING_MEMBERS} members: {verdict} ({plan_queries})")
        assert all(received == TOTAL for _seconds, received in workers.values())
        assert smtplib_received == TOTAL


if __name__ == "__main__":
    main()
