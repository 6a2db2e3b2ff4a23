"""Shared set-up for benchmarks: Django on a throwaway database, and timing helpers.

Benchmarks use DATABASE_URL (PostgreSQL in CI and on the benchmark machine)
and create and drop their own test database, so they never touch real data.
"""

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A script here runs with bench/ first on sys.path, where markdown.py and import.py would shadow the
# packages of those names (DRF imports `markdown` when it is installed): the project root replaces it.
sys.path[:] = [str(ROOT), *(path for path in sys.path if Path(path or ".").resolve() != ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402 (Django must be configured before it is imported further)

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


@contextmanager
def throwaway_database() -> Iterator[None]:
    """Create a fresh database of its own (migrated), and drop it afterwards.

    Its name is unique to this process, so a benchmark never clobbers a test
    run's database on the same server.
    """
    settings_dict = connection.settings_dict
    settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{os.getpid()}"
    if settings_dict["ENGINE"].endswith("sqlite3"):
        settings_dict["TEST"]["NAME"] = None  # in memory
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def median_ms(function: Callable[[], object], *, repeat: int = 5, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of `function` over `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, which starts afresh at exec.

    (getrusage's ru_maxrss does not: on Linux it keeps the parent's peak from
    before the exec, so a child started by a large benchmark would report it.)
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the Typst compile), user and system."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def children_peak_rss_mb() -> float:
    """The largest peak RSS of this process's finished children (the Typst compile), in MB.

    An upper bound: a child started with vfork counts the parent's resident
    memory at its exec too, so it reads at least the parent's size then.
    """
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def machine() -> str:
    """One line naming the machine and database the figures came from."""
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    cores = os.cpu_count()
    memory = ""
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    database = connection.vendor
    if database == "postgresql":
        database += f" {connection.cursor().connection.info.server_version // 10000}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "?"
    return f"{cpu}, {cores} cores{memory}; Python {platform.python_version()}; {database}; commit {commit}"
