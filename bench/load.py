"""Benchmark: the web tier under load, from outside, as production runs it.

Run (PostgreSQL and Redis, as production):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle REDIS_URL=redis://127.0.0.1:6379/0 \\
      .venv/bin/python bench/load.py

One command: it makes a throwaway database (migrated) and seeds one reading
circle (60 members, 40 sessions, 20 of them with a reading of the sample
essay, 4 questions and 40 notes each), collects the static files into a
temporary folder, and starts gunicorn with the production settings (a
throwaway secret key, plain http on 127.0.0.1, the worker count and class
from config/gunicorn.py: from the CPU count), on PostgreSQL and Redis (its
cache keys under a prefix of its own, deleted afterwards). Then, for each
mix of requests, an asyncio client on the same machine (`LeanClient`: HTTP/1.1
on asyncio streams; one member picked at random per request, API token or
session cookie as a member would use) measures:

1. saturation: a closed loop of 4 clients per gunicorn worker for
   `--saturation-seconds` (after a short warm-up); what is answered per
   second is the saturation throughput;
2. an open loop at half that rate for `--seconds` (60): requests are sent
   on a Poisson schedule whatever the answers, and each latency counts from
   the moment its request was due, so a server that falls behind is seen;
   p50/p99 overall and per kind of request.

Errors are any answer but the one expected, or no answer (timeouts,
refused connections, requests the client had to drop because more than
`--max-in-flight` were open). Writes are checked against the database:
notes created vs 2xx answers to note creation, and RSVP rows vs the
(member, session) pairs answered 2xx; a lost write (a 2xx with no row) or a
half-written one (a row without a 2xx) shows as a difference.

The machine's load average and the CPU time spent per answer by gunicorn's
workers, by their PostgreSQL backends and by this client are printed with each
figure, with how busy the machine's cores were and how much of that was other
work: the machine is shared, and CPU per request is what stays comparable when
others use the cores. The reference mix's targets (issue 10 §7) are printed
with met / NOT MET, with the CPU budget they imply: 150 answers a second on two
cores leave 13 ms of CPU per answer for gunicorn, PostgreSQL and the client.

Mixes: `full` (session list 30%, pack JSON 25%, note create 20%, reader page
15%, RSVP 10%) and `reference`, issue 10's (session list 40%, pack JSON 30%,
note create 30%). `--mix` picks one; both run by default.

`--profile KIND` (or `all`) profiles instead, in this process: the same
requests through Django's WSGI handler under cProfile, printing the costliest
functions of each kind of request (see docs/benchmarks.md).
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The secret the seeded web sessions are signed with must be the server's.
SECRET_KEY = secrets.token_urlsafe(50)
os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY

from _django import machine, throwaway_database  # noqa: E402 (sets Django up)
from django.db import connection  # noqa: E402

# bench/markdown.py would stand in for the markdown package (DRF looks for it).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]

MEMBERS, SESSIONS, READING_SESSIONS, NOTES_PER_SESSION, QUESTIONS_PER_SESSION = 60, 40, 20, 40, 4
PASSAGES_PER_READING = 24
SAMPLE = ROOT / "sample-texts" / "october-revolution-study-notes.txt"

MIXES = {
    "full": {"session_list": 30, "pack_json": 25, "note_create": 20, "reader_page": 15, "rsvp": 10},
    "reference": {"session_list": 40, "pack_json": 30, "note_create": 30},
}
EXPECTED = {"session_list": 200, "pack_json": 200, "note_create": 201, "reader_page": 200, "rsvp": 200}


# --- Seeding ------------------------------------------------------------------------------------


@dataclass
class Member:
    id: int
    token: str
    cookie: str


@dataclass
class World:
    group_id: int
    members: list[Member]
    session_ids: list[int]
    # Sessions still to come (RSVPs close when a session starts).
    upcoming_ids: list[int]
    # Each reading session with the passages its members annotate.
    readings: dict[int, list[int]] = field(default_factory=dict)


def seed() -> World:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from readings.models import Note, ReadingAssignment
    from readings.services.assignments import assignment_create
    from readings.services.importing import text_import
    from readings.services.questions import question_create
    from sessions_app.enums import Role
    from sessions_app.models import RSVP, Membership, StudyGroup, User
    from sessions_app.services.api_tokens import api_token_create
    from sessions_app.services.schedule import session_create

    group = StudyGroup.objects.create(name="Load circle", slug="load-circle", timezone="Europe/London")
    users = User.objects.bulk_create(
        [
            User(username=f"reader{n}", display_name=f"Reader {n}", email=f"reader{n}@example.org", password="!")
            for n in range(MEMBERS)
        ]
    )
    roles = {0: Role.ORGANIZER, 1: Role.FACILITATOR}
    Membership.objects.bulk_create(
        [Membership(group=group, user=user, role=roles.get(n, Role.MEMBER)) for n, user in enumerate(users)]
    )
    members = []
    for user in users:
        _, key = api_token_create(user=user, name="load")
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        members.append(Member(id=user.pk, token=key, cookie=store.session_key))

    text = text_import(group=group, created_by=users[0], content=SAMPLE.read_text())
    passages = list(text.passages.filter(retired=False).order_by("position"))
    first = datetime.now(UTC).replace(hour=18, minute=0, second=0, microsecond=0) - timedelta(days=7 * 10)
    session_ids, upcoming_ids, readings, notes = [], [], {}, []
    rng = random.Random(10)
    for n in range(SESSIONS):
        starts_at = first + timedelta(days=7 * n)
        session = session_create(
            group=group,
            title=f"Week {n + 1}: the October notes",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            location="Room 4, the library",
            facilitators=[users[1]],
        )
        session_ids.append(session.pk)
        if starts_at > datetime.now(UTC):
            upcoming_ids.append(session.pk)
        if n % 2:
            continue
        offset = (n // 2 * 5) % (len(passages) - PASSAGES_PER_READING)
        chosen = passages[offset : offset + PASSAGES_PER_READING]
        assignment_create(session=session, text=text, start_passage=chosen[0], end_passage=chosen[-1])
        for q in range(QUESTIONS_PER_SESSION):
            question_create(
                session=session,
                author=users[0],
                prompt=f"Question {q + 1}: what does this passage argue, and against whom?",
                passages=[chosen[q * 5 % len(chosen)]],
                facilitator_notes="Start with the quotation.",
            )
        readings[session.pk] = [p.pk for p in chosen]
        for k in range(NOTES_PER_SESSION):
            passage = rng.choice(chosen)
            words = passage.body.split()
            exact = " ".join(words[1:4])
            start = passage.body.find(exact)
            notes.append(
                Note(
                    author=rng.choice(users),
                    passage=passage,
                    body=f"Note {k}: *this* matters because of {exact}.",
                    body_html=f"<p>Note {k}: <em>this</em> matters because of {exact}.</p>",
                    visibility=("group", "group", "group", "private", "facilitators")[k % 5],
                    selector={"start": start, "end": start + len(exact), "exact": exact, "prefix": "", "suffix": ""},
                )
            )
    Note.objects.bulk_create(notes)
    RSVP.objects.bulk_create(
        [
            RSVP(session_id=session_id, user=user, status=rng.choice(["going", "maybe", "declined"]))
            for session_id in session_ids[::3]
            for user in users[::2]
        ]
    )
    assert ReadingAssignment.objects.count() == len(readings)
    return World(
        group_id=group.pk, members=members, session_ids=session_ids, upcoming_ids=upcoming_ids, readings=readings
    )


# --- The requests ----------------------------------------------------------------------------------


@dataclass
class Request:
    kind: str
    method: str
    path: str
    member: Member
    json: dict | None = None
    cookie: bool = False
    session_id: int | None = None


def make_request(kind: str, world: World, rng: random.Random) -> Request:
    member = rng.choice(world.members)
    reading = rng.choice(list(world.readings))
    if kind == "session_list":
        return Request(kind, "GET", "/api/v1/sessions/", member)
    if kind == "pack_json":
        return Request(kind, "GET", f"/api/v1/sessions/{reading}/pack/", member)
    if kind == "note_create":
        body = {
            "passage": rng.choice(world.readings[reading]),
            "body": f"A thought under load: *why* does the author say so? ({rng.randrange(10**6)})",
            "visibility": rng.choice(["group", "group", "private"]),
        }
        return Request(kind, "POST", "/api/v1/notes/", member, json=body)
    if kind == "reader_page":
        return Request(kind, "GET", f"/sessions/{reading}/read/", member, cookie=True)
    if kind == "rsvp":
        session_id = rng.choice(world.upcoming_ids)
        return Request(
            kind,
            "PUT",
            f"/api/v1/sessions/{session_id}/rsvp/",
            member,
            json={"status": rng.choice(["going", "maybe"])},
            session_id=session_id,
        )
    raise ValueError(kind)


@dataclass
class Outcome:
    kind: str
    status: int  # 0: no answer
    latency: float  # seconds, from when the request was due
    request: Request
    note_id: int | None = None


class LeanClient:
    """HTTP/1.1 on asyncio streams, the least a client can do: one request at a time per connection.

    A connection is kept for the next request when the server keeps it open (gthread workers with
    keep-alive); after an answer with `Connection: close` (sync workers), the next request opens a new
    one. Bodies come with Content-Length or chunked. httpx cost this process 3-5 ms of CPU per answer,
    as much as a third of what the server spent on it: measuring the server with a client that costs as
    much as the server does on the same two cores halves the throughput it can show.
    """

    # A kept connection idle longer than this is closed rather than used: the server closes its end
    # after its keep-alive timeout (config/gunicorn.py), and a request written just then would be lost.
    MAX_IDLE_SECONDS = 1.0

    def __init__(self, base_url: str, max_connections: int, timeout: float = 30):
        host, port = base_url.removeprefix("http://").rstrip("/").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.host_header = f"Host: {host}:{port}\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        async with self.slots:
            return await asyncio.wait_for(self._exchange(method, path, headers, body), self.timeout)

    async def _exchange(self, method, path, headers, body) -> tuple[int, bytes]:
        connection = None
        now = time.monotonic()
        while self.idle:
            reader, writer, since = self.idle.pop()
            if reader.at_eof() or writer.is_closing() or now - since > self.MAX_IDLE_SECONDS:
                writer.close()
                continue
            connection = reader, writer
            break
        if connection is None:
            connection = await asyncio.open_connection(self.host, self.port)
        reader, writer = connection
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), self.host_header]
        head += [f"{name}: {value}\r\n".encode() for name, value in headers.items()]
        if body is not None:
            head.append(f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode())
        head.append(b"\r\n")
        try:
            writer.write(b"".join(head) + (body or b""))
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    fields[name.strip().lower()] = value.strip()
            if "content-length" in fields:
                content = await reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                content = await self._chunked(reader)
            else:  # the body runs to the end of the connection
                content = await reader.read()
                fields["connection"] = "close"
        except BaseException:
            writer.close()
            raise
        if fields.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return status, content

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")  # no trailers are sent to us
        return b"".join(parts)

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


async def send(client: LeanClient, request: Request, due: float) -> Outcome:
    headers = {"Accept": "application/json"} if request.path.startswith("/api/") else {}
    if request.cookie:
        headers["Cookie"] = f"sessionid={request.member.cookie}"
    else:
        headers["Authorization"] = f"Token {request.member.token}"
    body = json.dumps(request.json).encode() if request.json is not None else None
    try:
        status, content = await client.request(request.method, request.path, headers, body)
    except Exception:  # every failure to answer is counted as an error
        return Outcome(request.kind, 0, time.perf_counter() - due, request)
    note_id = None
    if request.kind == "note_create" and status == 201:
        note_id = json.loads(content)["id"]
    return Outcome(request.kind, status, time.perf_counter() - due, request, note_id)


def picker(mix: dict[str, int], rng: random.Random):
    kinds, weights = list(mix), list(mix.values())
    return lambda: rng.choices(kinds, weights)[0]


async def closed_loop(base_url: str, world: World, mix: dict, *, clients: int, seconds: float, seed: int = 1):
    """`clients` clients, each sending its next request as soon as the last is answered."""
    rng = random.Random(seed)
    pick = picker(mix, rng)
    outcomes: list[Outcome] = []
    client = LeanClient(base_url, max_connections=clients)
    try:
        stop_at = time.perf_counter() + seconds

        async def loop():
            while (now := time.perf_counter()) < stop_at:
                outcomes.append(await send(client, make_request(pick(), world, rng), now))

        await asyncio.gather(*(loop() for _ in range(clients)))
    finally:
        client.close()
    return outcomes


async def open_loop(base_url: str, world: World, mix: dict, *, rate: float, seconds: float, max_in_flight: int):
    rng = random.Random(2)
    pick = picker(mix, rng)
    outcomes: list[Outcome] = []
    dropped: list[Outcome] = []
    in_flight = set()
    client = LeanClient(base_url, max_connections=max_in_flight)
    try:
        start = time.perf_counter()
        due = start
        while due < start + seconds:
            due += rng.expovariate(rate)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            request = make_request(pick(), world, rng)
            if len(in_flight) >= max_in_flight:
                dropped.append(Outcome(request.kind, 0, 0.0, request))
                continue
            task = asyncio.ensure_future(send(client, request, due))
            in_flight.add(task)
            task.add_done_callback(lambda t: (in_flight.discard(t), outcomes.append(t.result())))
        while in_flight:
            await asyncio.sleep(0.05)
    finally:
        client.close()
    return outcomes + dropped


# --- Measuring the server -----------------------------------------------------------------------------


def cpu_seconds_of(pids) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def backend_pids(database: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        return [row[0] for row in cursor.fetchall()]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent on anything but idling and waiting for I/O (all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds over one measured run."""

    gunicorn: float  # the workers
    postgres: float  # their database backends
    client: float  # this process: the load client
    machine: float  # every process on the machine, ours and others'
    wall: float

    def others(self) -> float:
        return max(0.0, self.machine - self.gunicorn - self.postgres - self.client)


class CpuMeter:
    """CPU seconds used by gunicorn's workers, their PostgreSQL backends and this client between start() and stop().

    A process started during the run counts from 0; one that ended during it is lost (workers are
    not recycled, and CONN_MAX_AGE keeps each worker's connection open, so neither happens here).
    The whole machine's busy time is read too: on a shared machine it says how much of the two cores
    other people's work took while this ran.
    """

    def __init__(self, master_pid: int, database: str):
        self.master_pid, self.database = master_pid, database

    def _sample(self) -> dict[int, float]:
        pids = children_of(self.master_pid) + backend_pids(self.database)
        return {pid: cpu_seconds_of([pid]) for pid in pids}, set(children_of(self.master_pid))

    def start(self):
        self.before, _ = self._sample()
        self.client_before = time.process_time()
        self.machine_before = machine_busy_seconds()
        self.wall_before = time.perf_counter()

    def stop(self) -> CpuUse:
        wall = time.perf_counter() - self.wall_before
        machine = machine_busy_seconds() - self.machine_before
        client = time.process_time() - self.client_before
        after, workers = self._sample()
        used = {pid: seconds - self.before.get(pid, 0.0) for pid, seconds in after.items()}
        return CpuUse(
            gunicorn=sum(seconds for pid, seconds in used.items() if pid in workers),
            postgres=sum(seconds for pid, seconds in used.items() if pid not in workers),
            client=client,
            machine=machine,
            wall=wall,
        )


# --- The server ---------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database: str, static_root: str, prefix: str) -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "STUDYCIRCLE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": "http://127.0.0.1",
            # Plain http on 127.0.0.1: what compose's trial setting does (TLS would sit in front).
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}",
            "REDIS_URL": os.environ["REDIS_URL"],
            "CACHE_KEY_PREFIX": prefix,
            "STATIC_ROOT": static_root,
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def collect_static(env: dict, static_root: str) -> None:
    """collectstatic under the production settings, without whitenoise's compressed copies (brotli takes
    minutes here, and no static file is in the mix): the same files and manifest; production's storage
    serves the plain file where a compressed one is missing."""
    settings_folder = Path(static_root) / "_settings"
    settings_folder.mkdir()
    (settings_folder / "bench_static.py").write_text(
        "from config.settings.production import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'}}\n"
    )
    build_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "bench_static",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(settings_folder)]),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=build_env, check=True
    )
    shutil.rmtree(settings_folder)


def start_gunicorn(env: dict, port: int, extra: list[str]) -> subprocess.Popen:
    import urllib.request

    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--config",
        str(ROOT / "config" / "gunicorn.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--log-level",
        "warning",
        *extra,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/", timeout=5):
                pass
            return process
        except Exception:  # not up yet
            if process.poll() is not None:
                raise SystemExit("gunicorn exited while starting") from None
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def delete_cache_keys(prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


# --- Reporting ------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def is_error(outcome: Outcome) -> bool:
    return outcome.status != EXPECTED[outcome.kind]


def summarize(outcomes: list[Outcome]) -> dict:
    by_kind = {}
    for kind in sorted({o.kind for o in outcomes}):
        mine = [o for o in outcomes if o.kind == kind]
        ok = [o.latency * 1000 for o in mine if not is_error(o)]
        by_kind[kind] = {
            "n": len(mine),
            "errors": sum(is_error(o) for o in mine),
            "p50": percentile(ok, 50),
            "p99": percentile(ok, 99),
        }
    ok = [o.latency * 1000 for o in outcomes if not is_error(o)]
    return {
        "n": len(outcomes),
        "errors": sum(is_error(o) for o in outcomes),
        "p50": percentile(ok, 50),
        "p99": percentile(ok, 99),
        "by_kind": by_kind,
    }


def error_breakdown(outcomes: list[Outcome]) -> str:
    counts: dict[tuple, int] = {}
    for o in outcomes:
        if is_error(o):
            counts[(o.kind, o.status)] = counts.get((o.kind, o.status), 0) + 1
    return ", ".join(f"{kind} {status or 'no answer'}: {n}" for (kind, status), n in sorted(counts.items())) or "none"


def check_writes(outcomes: list[Outcome], notes_before: int) -> tuple[str, int]:
    """Rows written vs 2xx answers: (the line to print, the number of differences)."""
    from readings.models import Note
    from sessions_app.models import RSVP

    answered_ids = {o.note_id for o in outcomes if o.kind == "note_create" and o.status == 201}
    created = Note.objects.count() - notes_before
    found = Note.objects.filter(pk__in=answered_ids).count()
    pairs = {(o.request.member.id, o.request.session_id) for o in outcomes if o.kind == "rsvp"}
    answered_pairs = {
        (o.request.member.id, o.request.session_id) for o in outcomes if o.kind == "rsvp" and o.status == 200
    }
    rows = set(RSVP.objects.values_list("user_id", "session_id"))
    lost_rsvps = len(answered_pairs - rows)
    differences = (len(answered_ids) - found) + abs(created - len(answered_ids)) + lost_rsvps
    line = (
        f"notes: {len(answered_ids)} answered 201, {created} rows written, {found} of the answered ids found; "
        f"RSVPs: {len(answered_pairs)} (member, session) pairs answered 200 of {len(pairs)} tried, "
        f"{len(answered_pairs) - lost_rsvps} with their row"
    )
    return line, differences


def print_table(title: str, summary: dict, seconds: float, cpu: CpuUse) -> None:
    answered = summary["n"] - summary["errors"]
    per_answer = lambda s: s / answered * 1000 if answered else float("nan")  # noqa: E731
    ours = cpu.gunicorn + cpu.postgres + cpu.client
    cores = os.cpu_count() or 1
    print(f"\n{title}")
    print(
        f"  {answered / seconds:.1f} answers/s over {seconds:.0f} s; {summary['n']} requests,"
        f" {summary['errors']} errors; p50 {summary['p50']:.1f} ms, p99 {summary['p99']:.1f} ms"
    )
    print(
        f"  CPU per answer: {per_answer(ours):.2f} ms = gunicorn {per_answer(cpu.gunicorn):.2f}"
        f" + PostgreSQL {per_answer(cpu.postgres):.2f} + this client {per_answer(cpu.client):.2f};"
        f" so {cores} free cores would answer about {cores * 1000 / per_answer(ours):.0f}/s"
    )
    print(
        f"  The machine's {cores} cores were {cpu.machine / cpu.wall / cores:.0%} busy: this run"
        f" {ours / cpu.wall:.2f} cores, other work {cpu.others() / cpu.wall:.2f} cores;"
        f" load average {load_average()}"
    )
    print(f"  {'kind':<14}{'n':>7}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for kind, row in summary["by_kind"].items():
        print(f"  {kind:<14}{row['n']:>7}{row['errors']:>8}{row['p50']:>9.1f}{row['p99']:>9.1f}")


def per_answer_ms(cpu: CpuUse, summary: dict) -> float:
    answered = summary["n"] - summary["errors"]
    return (cpu.gunicorn + cpu.postgres + cpu.client) / answered * 1000 if answered else float("nan")


# Issue 10 §7's targets for the reference mix; the CPU budget is what 150 req/s leaves on two cores.
TARGET_SATURATION, TARGET_P99_MS, TARGET_CPU_MS = 150, 100, 13


def print_targets(rate: float, p99: float, errors: int, differences: int, cpu_ms: float) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    print(f"Target: 0 errors: {verdict(errors == 0)} ({errors})")
    print(f"Target: 0 lost or half-written writes: {verdict(differences == 0)} ({differences})")
    print(f"Target: saturation >= {TARGET_SATURATION} req/s: {verdict(rate >= TARGET_SATURATION)} ({rate:.1f})")
    print(f"Target: p99 < {TARGET_P99_MS} ms at half of it: {verdict(p99 < TARGET_P99_MS)} ({p99:.1f} ms)")
    print(
        f"Budget: <= {TARGET_CPU_MS} ms of CPU per answer (gunicorn + PostgreSQL + client; 2 cores at "
        f"{TARGET_SATURATION}/s): {verdict(cpu_ms <= TARGET_CPU_MS)} ({cpu_ms:.1f} ms)"
    )


# --- Profiling in this process -----------------------------------------------------------------------------


def run_in_process(client, request: Request) -> None:
    """One request through Django's WSGI handler (test client), as the member would send it."""
    headers = {}
    if request.cookie:
        client.cookies["sessionid"] = request.member.cookie
    else:
        client.cookies.pop("sessionid", None)
        headers["HTTP_AUTHORIZATION"] = f"Token {request.member.token}"
    data = json.dumps(request.json) if request.json is not None else None
    method = getattr(client, request.method.lower())
    response = method(request.path, data=data, content_type="application/json", **headers)
    expected = EXPECTED[request.kind]
    assert response.status_code == expected, (request.kind, response.status_code, response.content[:300])


def profile(world: World, kinds: list[str], repeat: int, sort: str = "cumulative", top: int = 45) -> None:
    """CPU time per request of each kind in this process, its queries, and a cProfile of it."""
    import cProfile
    import pstats

    from django.core.cache import cache
    from django.test import Client

    rng = random.Random(3)
    client = Client(raise_request_exception=True)
    for kind in kinds:
        requests = [make_request(kind, world, rng) for _ in range(repeat + 5)]
        # In the mix, the notes written keep changing every pack's version, so nearly every pack request
        # builds its pack: it is measured that way (the cache emptied before each), and from the cache apart.
        built = kind == "pack_json"

        def run(request, built=built):
            if built:
                cache.clear()
            run_in_process(client, request)

        for request in requests[:5]:
            run(request)
        # Without the profiler first: CPU time of this process per request (the app's share; the database's is apart).
        start = time.process_time()
        for request in requests[5:]:
            run(request)
        plain = (time.process_time() - start) / repeat * 1000
        queries: list[str] = []

        def log(execute, sql, *rest, queries=queries):
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(log):
            run(requests[5])
        # CPU time, not wall time: the machine is shared, and the database's share is counted apart (queries).
        profiler = cProfile.Profile(time.process_time)
        start = time.process_time()
        profiler.enable()
        for request in requests[5:]:
            run(request)
        profiler.disable()
        elapsed = (time.process_time() - start) / repeat * 1000
        state = " (built: the cache emptied before each)" if built else ""
        print(
            f"\n=== {kind}{state}: {plain:.1f} ms CPU per request ({elapsed:.1f} under the profiler; "
            f"{repeat} requests), {len(queries)} queries:"
        )
        for sql in queries:
            print("   ", sql[:160])
        if built:
            for request in requests[5:]:
                run_in_process(client, request)
            start = time.process_time()
            for request in requests[5:]:
                run_in_process(client, request)
            cached = (time.process_time() - start) / repeat * 1000
            print(f"    (the same requests again, each from the cache: {cached:.1f} ms CPU per request)")
        pstats.Stats(profiler).strip_dirs().sort_stats(sort).print_stats(top)


# --- The command -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mix", choices=["full", "reference", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60, help="the open loop at half the saturation rate")
    parser.add_argument("--saturation-seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--clients-per-worker", type=int, default=4)
    parser.add_argument("--max-in-flight", type=int, default=200)
    parser.add_argument("--gunicorn", default="", help="extra gunicorn arguments, e.g. '--workers 3'")
    parser.add_argument("--profile", choices=[*EXPECTED, "all"], help="profile one kind of request in-process instead")
    parser.add_argument("--repeat", type=int, default=200, help="requests per kind when profiling")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (pstats): cumulative, tottime")
    parser.add_argument("--top", type=int, default=45, help="how many functions of each profile to print")
    args = parser.parse_args()

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL to PostgreSQL and REDIS_URL to a Redis database: production runs on them.")

    with throwaway_database():
        print(f"Machine: {machine()}")
        started = time.perf_counter()
        world = seed()
        print(
            f"Seeded {MEMBERS} members, {SESSIONS} sessions ({len(world.readings)} with a reading of "
            f"{PASSAGES_PER_READING} passages, {QUESTIONS_PER_SESSION} questions and {NOTES_PER_SESSION} notes) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        if args.profile:
            kinds = list(EXPECTED) if args.profile == "all" else [args.profile]
            profile(world, kinds, args.repeat, args.sort, args.top)
            return 0
        database = connection.settings_dict["NAME"]
        connection.close()
        return serve_and_measure(args, world, database)


def serve_and_measure(args, world: World, database: str) -> int:
    from readings.models import Note

    prefix = f"bench-load-{os.getpid()}"
    static_root = tempfile.mkdtemp(prefix="studycircle-bench-static-")
    env = server_env(database, static_root, prefix)
    failures = 0
    process = None
    try:
        collect_static(env, static_root)
        port = free_port()
        process = start_gunicorn(env, port, args.gunicorn.split())
        workers = len(children_of(process.pid))
        print(f"gunicorn: {workers} workers ({args.gunicorn or 'config/gunicorn.py defaults'}), production settings")
        base_url = f"http://127.0.0.1:{port}"
        meter = CpuMeter(process.pid, database)
        mixes = ["full", "reference"] if args.mix == "both" else [args.mix]
        for name in mixes:
            mix = MIXES[name]
            print(f"\n##### mix {name}: " + ", ".join(f"{kind} {weight}%" for kind, weight in mix.items()))
            notes_before = Note.objects.count()
            clients = args.clients_per_worker * workers
            # Warm-up (each worker's first requests import and connect), not measured.
            warm = asyncio.run(closed_loop(base_url, world, mix, clients=clients, seconds=args.warmup, seed=0))
            meter.start()
            saturated = asyncio.run(closed_loop(base_url, world, mix, clients=clients, seconds=args.saturation_seconds))
            cpu = saturated_cpu = meter.stop()
            summary = summarize(saturated)
            rate = (summary["n"] - summary["errors"]) / args.saturation_seconds
            print_table(f"Saturation ({clients} clients, closed loop):", summary, args.saturation_seconds, cpu)
            half = rate / 2
            meter.start()
            opened = asyncio.run(
                open_loop(base_url, world, mix, rate=half, seconds=args.seconds, max_in_flight=args.max_in_flight)
            )
            cpu = meter.stop()
            print_table(f"Open loop at half of it, {half:.1f} req/s offered:", summarize(opened), args.seconds, cpu)
            # The warm-up's writes are rows of this run too.
            outcomes = warm + saturated + opened
            line, differences = check_writes(outcomes, notes_before)
            print(f"\nWrites ({name}): {line}")
            errors = sum(is_error(o) for o in outcomes)
            print(f"Errors ({name}): {errors} ({error_breakdown(outcomes)})")
            at_half = summarize(opened)
            print(
                f"SUMMARY {name}: saturation {rate:.1f} req/s; at {half:.1f} req/s p50 "
                f"{at_half['p50']:.1f} ms, p99 {at_half['p99']:.1f} ms; "
                f"errors {errors}; write differences {differences}; CPU per answer at saturation "
                f"{per_answer_ms(saturated_cpu, summary):.1f} ms"
            )
            if name == "reference":
                print_targets(rate, at_half["p99"], errors, differences, per_answer_ms(saturated_cpu, summary))
            failures += errors + differences
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a loaded machine: workers still finishing
                process.kill()
                process.wait()
        shutil.rmtree(static_root, ignore_errors=True)
        deleted = delete_cache_keys(prefix)
        print(f"\nCleaned up: gunicorn stopped, static folder removed, {deleted} cache keys deleted")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
