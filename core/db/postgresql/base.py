"""Django's PostgreSQL backend, with a health check that costs no round trip.

`CONN_HEALTH_CHECKS` makes Django check a kept connection before a request's
first query, so that one PostgreSQL closed (a restart, an idle timeout,
`pg_terminate_backend`) is replaced instead of failing that request. Django
checks by sending `SELECT 1` and waiting for it: one round trip on every
request, CPU in both the worker and PostgreSQL (docs/benchmarks.md, Load).

A server that ends a connection says so on its socket (its FATAL message,
then end of file), and an idle connection between requests has nothing else
to read: so the check here asks the socket, without waiting, whether
anything arrived. Anything at all, or a connection psycopg already knows is
bad, and the connection is closed and a new one opened, as Django's own check
would. After an error in a request, Django's `SELECT 1` still decides
(`close_if_unusable_or_obsolete`, unchanged).
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable_without_a_query(self) -> bool:
        """False if the server closed the connection or sent anything while it sat idle; no query is sent."""
        if self.connection is None or self.connection.closed or self.connection.broken:
            return False
        try:
            poller = select.poll()
            poller.register(self.connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError):  # no socket any more
            return False

    def close_if_health_check_failed(self):
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self.is_usable_without_a_query():
            self.close()
        self.health_check_done = True
