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
It then collects its young objects after 10,000 allocations instead of
Python's 700: a request leaves almost everything it makes to reference
counting, and at 700 a collection ran nearly every request and passed on to
the older generations what the request was about to free anyway. Measured
through the WSGI handler (300 requests a kind, CPU of collections per
request): pack 0.74 -> 0.19 ms, note create 0.62 -> 0.31 ms, session list
0.57 -> 0.59 ms (its cyclic garbage is collected either way); a young
collection then takes about 10 ms, once every 20 to 70 requests.

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


# Python's (700, 10, 10), the youngest generation's threshold raised (see above).
GC_THRESHOLDS = (10_000, 10, 10)


def post_worker_init(worker):
    """The worker has loaded the app: leave its long-lived objects out of every garbage collection from now on,
    and collect the young ones less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
