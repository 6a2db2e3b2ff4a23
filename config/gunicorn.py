"""gunicorn's settings for the web process (Dockerfile, docker-compose.yml, bench/load.py).

The bind address stays on the command line. Workers: WEB_CONCURRENCY if set,
else gunicorn's rule of thumb, 2 per CPU core plus 1 (a sync worker waits on
PostgreSQL part of the time, so one per core leaves the cores idle then).
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
