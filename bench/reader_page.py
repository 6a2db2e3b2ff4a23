"""Benchmark: what one reader page costs gunicorn, one request at a time (no load).

Run (PostgreSQL and Redis, as production):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle REDIS_URL=redis://127.0.0.1:6379/0 \\
      .venv/bin/python bench/reader_page.py [--requests 200]

It seeds bench/load.py's circle (a reading of 24 passages; passages overlap
between readings, so a page shows about 120 notes) in a throwaway database,
starts one gunicorn worker with the production settings, and asks for reader
pages one after another as members (session cookie). It prints the worker's
CPU time per page, the median and p90 latency, the node renders and includes
of one page in this process, and the machine's load average (the machine is
shared: CPU per page is what stays comparable).
"""

import argparse
import collections
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # sets Django up, and the secret key the seeded sessions are signed with


def node_renders(world: load.World) -> collections.Counter:
    """Template nodes rendered for one reader page in this process, by template."""
    from django.template import base
    from django.test import Client

    counts: collections.Counter = collections.Counter()
    render_annotated = base.Node.render_annotated

    def counting(node, context):
        counts[node.origin.template_name if node.origin else "?"] += 1
        return render_annotated(node, context)

    request = load.make_request("reader_page", world, random.Random(3))
    client = Client(raise_request_exception=True)
    load.run_in_process(client, request)  # warm
    base.Node.render_annotated = counting
    try:
        load.run_in_process(client, request)
    finally:
        base.Node.render_annotated = render_annotated
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with load.throwaway_database():
        print(f"Machine: {load.machine()}")
        world = load.seed()
        counts = node_renders(world)
        print(f"One page in this process: {sum(counts.values())} template nodes rendered")
        for name, n in counts.most_common():
            print(f"  {n:6d} {name}")
        database = load.connection.settings_dict["NAME"]
        load.connection.close()
        prefix = f"bench-reader-{os.getpid()}"
        static_root = tempfile.mkdtemp(prefix="studycircle-bench-static-")
        env = load.server_env(database, static_root, prefix)
        process = None
        try:
            load.collect_static(env, static_root)
            port = load.free_port()
            process = load.start_gunicorn(env, port, ["--workers", "1"])
            worker = load.children_of(process.pid)
            rng = random.Random(5)
            requests = [load.make_request("reader_page", world, rng) for _ in range(args.requests + 20)]

            def get(request: load.Request) -> float:
                started = time.perf_counter()
                opener = urllib.request.Request(
                    f"http://127.0.0.1:{port}{request.path}", headers={"Cookie": f"sessionid={request.member.cookie}"}
                )
                with urllib.request.urlopen(opener, timeout=30) as response:  # noqa: S310 (http://127.0.0.1 only)
                    assert response.status == 200, response.status
                    response.read()
                return (time.perf_counter() - started) * 1000

            for request in requests[:20]:
                get(request)
            before = load.cpu_seconds_of(worker)
            latencies = [get(request) for request in requests[20:]]
            cpu = (load.cpu_seconds_of(worker) - before) / args.requests * 1000
            latencies.sort()
            print(
                f"gunicorn (1 worker, production settings), {args.requests} reader pages one at a time: "
                f"{cpu:.1f} ms CPU per page in the worker; latency p50 {statistics.median(latencies):.1f} ms, "
                f"p90 {latencies[int(len(latencies) * 0.9)]:.1f} ms; load average {load.load_average()}"
            )
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
            shutil.rmtree(static_root, ignore_errors=True)
            load.delete_cache_keys(prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
