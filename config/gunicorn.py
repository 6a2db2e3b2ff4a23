"""gunicorn's settings for the web process (Dockerfile, docker-compose.yml, bench/load.py).

The bind address stays on the command line. Workers: WEB_CONCURRENCY if set,
else gunicorn's rule of thumb, 2 per CPU core plus 1 (a sync worker waits on
PostgreSQL part of the time, so one per core leaves the cores idle then).

Worker class: sync (gunicorn's default), chosen by measurement. Every request
of the app is CPU-bound Python (Django, the ORM, JSON) with short waits on
PostgreSQL and Redis, which the extra processes already fill. A gthread worker
keeps connections alive, but its poller and thread pool, and a second thread
contending for the worker's GIL, cost more than the connection it saves: with
`bench/load.py --mix reference`, 2 threads per worker spent about 1.8 ms more
CPU per answer in gunicorn while keep-alive saved the client 0.35 ms
(docs/benchmarks.md, Load). A sync worker closes each connection after its
answer, which is what it is meant for: in production a TLS proxy in front
keeps the browsers' connections alive and buffers slow clients, and its own
connection to gunicorn is local.

Each worker freezes what it holds once Django is loaded (`gc.freeze()`): the
130,000 objects of the app and its libraries live as long as the worker, and
without it every full garbage collection walked them all again (about 1 ms a
request on average here, about 90 ms each time one ran; docs/benchmarks.md, Load).

Garbage collection then runs between requests, never inside one. A request
leaves almost everything it makes to reference counting; what it leaves in
cycles (request, response and resolver objects refer to each other) waits
for the collector. Python starts a collection every 700 net allocations,
inside whichever request makes the 700th: nearly every request then paid
for a collection that passed on to the older generations what the request
was about to free anyway, and with a larger threshold fewer requests paid
more each (a young collection about 3 ms of CPU and 6 ms on a busy machine
every 20 requests, a middle one 6.5 ms of CPU and up to 35 ms every 200:
the slowest answers of the load benchmark). So `post_request`, which gunicorn
calls once the answer has been written, collects when 10,000 objects are
pending, the generation Python itself would have chosen, while the client
already has its answer; the threshold Python keeps is a safety net for a
request that makes 100,000 objects on its own (a pack build turns the
collector off while it runs: `readings.pack.builder`).

gunicorn believes no forwarded header itself (by default it takes
X-Forwarded-Proto and friends from 127.0.0.1, so a client on the same machine
could claim https): whether a request came through TLS is Django's to decide,
and it believes X-Forwarded-Proto only when TRUSTED_PROXY_COUNT says a proxy of
ours is in front (config/settings/production.py).
"""

import gc
import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}


# Collect between requests once this many objects are pending (see above); each tenth young collection is a
# middle one, each tenth middle one a full one, as Python's own (700, 10, 10) would.
YOUNG_BETWEEN_REQUESTS = 10_000
OLDER_EVERY = 10
# Python's own collections: only for a request that makes this many objects by itself.
GC_THRESHOLDS = (100_000, OLDER_EVERY, OLDER_EVERY)


def post_worker_init(worker):
    """The worker has loaded the app: leave its long-lived objects out of every garbage collection from now on,
    and let Python collect only in a request that makes a great many objects (`post_request` does the rest)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def post_request(worker, req, environ, resp):
    """The answer is written: collect the garbage of the last requests now, if enough is pending, so that no
    request waits for a collection."""
    young, middle, old = gc.get_count()
    if young < YOUNG_BETWEEN_REQUESTS:
        return
    if old >= OLDER_EVERY:
        gc.collect(2)
    elif middle >= OLDER_EVERY:
        gc.collect(1)
    else:
        gc.collect(0)
