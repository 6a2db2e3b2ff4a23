"""A kept PostgreSQL connection is checked before each request without a query (core/db/postgresql)."""

import time

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's health check"),
]


@pytest.fixture
def kept():
    """A connection of its own, as a gunicorn worker keeps one between requests (CONN_MAX_AGE, health checks on)."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = {**wrapper.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def start_request(wrapper) -> tuple[int, int]:
    """What each request does before its first query (Django's request_started, then the health check):
    how many SELECT 1 it sent, and the PostgreSQL backend that answered the query."""
    sent = []
    usable = wrapper.is_usable
    wrapper.is_usable = lambda: sent.append(1) or usable()
    try:
        wrapper.close_if_unusable_or_obsolete()
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return len(sent), cursor.fetchone()[0]
    finally:
        del wrapper.is_usable


def test_a_kept_connection_is_checked_without_a_round_trip(kept):
    pid = kept.connection.info.backend_pid

    for _ in range(3):
        assert start_request(kept) == (0, pid)  # no SELECT 1, the same connection


def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(kept):
    pid = kept.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while not kept.connection.closed and kept.is_usable_without_a_query() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye reaches the socket

    sent, new_pid = start_request(kept)

    assert (sent, new_pid != pid) == (0, True)
