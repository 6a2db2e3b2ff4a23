"""`make run` as a newcomer runs it: the demo served, a readable reminder in the output, and a clean stop.

Each test starts the real `make run` (make → bin/run → runserver and a Celery
worker with embedded beat, on a SQLite file and the filesystem broker) in a
session of its own, on a temporary var folder and a free port, then stops it
the way a person would and checks that no process of that session is left.
The var folder is shared by the module's tests: the first run creates the
demo, the later ones find it (as a second `make run` does).
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from .reminders.realparts import ROOT, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker]

STARTED = "Studycircle is at http://"
DROP_IN = "Drop-in: first look at the essay"
# Generous: a stop takes a few seconds (Celery's warm shutdown); this only bounds a hung test.
STOP_TIMEOUT = 30


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("make-run-var")


class MakeRun:
    """`make run` in its own session, writing to a log; knows every process of that session."""

    def __init__(self, var_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.log = log
        ours = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "SITE_URL", "DJANGO_SETTINGS_MODULE"}
        self.env = {
            **{key: value for key, value in os.environ.items() if key not in ours},
            # The embedded default, whatever the test run (or a .env) points at.
            "DATABASE_URL": f"sqlite:///{var_dir / 'studycircle.sqlite3'}",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "EMAIL_URL": "consolemail://",
            "STUDYCIRCLE_VAR_DIR": str(var_dir),
            "RUN_ADDRESS": f"127.0.0.1:{self.port}",
            "PYTHONUNBUFFERED": "1",
            # Beat's first dispatch pass comes one interval after start: a minute by default,
            # seconds here, so the reminder shows up as soon as it is due (within the minute).
            "REMINDER_DISPATCH_INTERVAL_SECONDS": "5",
            "WORKER_HEARTBEAT_SECONDS": "2",
        }
        self.popen: subprocess.Popen | None = None

    def start(self) -> "MakeRun":
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url("/api/v1/health/"), timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_serving(self) -> None:
        wait_for(
            lambda: (STARTED in self.output() and self.answers()) or self.popen.poll() is not None,
            timeout=180,
            every=0.2,
            what="make run to serve",
        )
        assert self.popen.poll() is None, self.output()[-3000:]

    def processes(self) -> list[dict]:
        """Every live process of the session (zombies have exited: they do not count)."""
        self.popen.poll()  # reap make itself once it is gone
        listing = subprocess.run(
            ["ps", "-ww", "-e", "-o", "pid=,ppid=,sid=,stat=,args="], capture_output=True, text=True, check=True
        ).stdout
        found = []
        for line in listing.splitlines():
            pid, ppid, sid, stat, args = line.split(None, 4)
            if int(sid) == self.popen.pid and not stat.startswith("Z"):
                found.append({"pid": int(pid), "ppid": int(ppid), "args": args})
        return found

    def pid_of(self, pattern: str) -> int:
        """The process whose command matches, not a subshell it has forked for a moment (same command line)."""
        matching = [p for p in self.processes() if re.search(pattern, p["args"])]
        forked = {p["pid"] for p in matching}
        (pid,) = [p["pid"] for p in matching if p["ppid"] not in forked]
        return pid

    def wait_all_gone(self) -> None:
        wait_for(lambda: not self.processes(), timeout=STOP_TIMEOUT, every=0.2, what="every process to stop")

    def kill_all(self) -> None:
        if self.popen is None:
            return
        for process in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process["pid"], signal.SIGKILL)
        self.popen.wait(timeout=10)


@pytest.fixture
def make_run(var_dir, tmp_path):
    runs = []

    def start() -> MakeRun:
        run = MakeRun(var_dir, tmp_path / f"make-run-{len(runs)}.log").start()
        runs.append(run)
        run.wait_serving()
        return run

    yield start
    for run in runs:
        run.kill_all()


def accounts(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+\w+\s+(\S+)\s+password: (\S+)", output, re.MULTILINE))


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def health(run: MakeRun) -> dict:
    with urllib.request.urlopen(run.url("/api/v1/health/"), timeout=5) as response:
        return json.loads(response.read())


def test_make_run_serves_the_demo_prints_a_readable_reminder_and_stops_when_make_gets_int(make_run):
    run = make_run()
    passwords = accounts(run.output())
    token = post_json(run.url("/api/v1/auth/token/"), {"username": "member1", "password": passwords["member1"]})
    request = urllib.request.Request(run.url("/api/v1/sessions/"), headers={"Authorization": f"Token {token['token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        titles = [session["title"] for session in json.loads(response.read())["results"]]

    # The drop-in's "starting soon" reminder, due within the minute, printed as Mira reads it.
    wait_for(
        lambda: "To: Mira Member <member1@example.org>\nSubject: Starting soon:" in run.output(),
        timeout=180,
        every=0.5,
        what="the starting reminder in the worker's output",
    )
    up = wait_for(
        lambda: (lambda report: report if report["worker"]["ok"] and report["beat"]["ok"] else None)(health(run)),
        timeout=60,
        what="the worker and beat to report themselves",
    )
    os.kill(run.popen.pid, signal.SIGINT)  # to make alone, which does not pass it on
    run.wait_all_gone()

    output = run.output()
    assert set(passwords) == {"organizer", "member1", "member2"}
    assert sorted(token) == ["expires_at", "token"]
    assert DROP_IN in titles
    email = output[output.index("To: Mira Member <member1@example.org>\nSubject: Starting soon:") :]
    assert re.match(
        r"To: Mira Member <member1@example.org>\n"
        r"Subject: Starting soon: “Drop-in: first look at the essay”, \w{3} \d+ \w{3}, \d\d:\d\d\n"
        r"Date: .+\n"
        r"Also carries: an HTML version of this text, session.ics \(text/calendar\)\n"
        r"\n"
        r"Hello Mira Member,\n\n"
        r"“Drop-in: first look at the essay” with Demo Study Circle starts soon.\n",
        email,
    ), email[:800]
    assert "Content-Transfer-Encoding" not in output
    assert "=?utf-8?" not in output
    assert up["redis"] == {"ok": True, "configured": False}
    assert "make run was signalled; stopping." in output


def test_a_second_run_prints_the_same_passwords_and_stops_with_a_closed_terminal(make_run):
    first = make_run()
    os.kill(first.pid_of(r"\bbin/run$"), signal.SIGTERM)
    first.wait_all_gone()
    second = make_run()
    os.killpg(second.popen.pid, signal.SIGHUP)  # a closed terminal: its foreground group, make and bin/run
    second.wait_all_gone()

    assert accounts(second.output()) == accounts(first.output())
    assert first.popen.returncode == 0  # make succeeds only if bin/run exited 0
    assert "Stopping (signal received)." in first.output()
    assert "Stopping (signal received)." in second.output()


@pytest.mark.parametrize("how", ["ctrl-c in the terminal", "make killed"])
def test_every_process_stops_when_the_terminal_or_make_goes(make_run, how):
    run = make_run()
    before = run.processes()

    if how == "ctrl-c in the terminal":  # the terminal sends INT to its foreground group: make and bin/run
        os.killpg(run.popen.pid, signal.SIGINT)
    else:  # nothing can catch KILL: bin/run notices its parent is gone
        os.kill(run.popen.pid, signal.SIGKILL)
    run.wait_all_gone()

    commands = [process["args"] for process in before]
    assert any(re.search(r"\bbin/run$", command) for command in commands)
    assert any("celery -A config" in command for command in commands)  # (celery rewrites its title)
    assert any("manage.py runserver" in command for command in commands)
    expected = "Stopping (signal received)." if how.startswith("ctrl-c") else "is gone; stopping."
    assert expected in run.output()
