"""PostgreSQL keeps the statements a connection runs again and again prepared (config/settings/base.py).

Planning a query cost PostgreSQL more CPU than running it for most of what a
request asks (the notes visibility rule's joins above all): a prepared
statement is planned once per connection, then its generic plan is reused.
"""

import pytest
from django.db import connection, connections

from sessions_app.models import StudyGroup

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements"),
]


def prepared_statements(wrapper) -> list[str]:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def kept():
    """A connection of its own, as a gunicorn worker keeps one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def test_a_query_run_again_and_again_on_a_connection_is_prepared_there(kept):
    sql, params = StudyGroup.objects.filter(slug="no-such-group").values_list("pk").query.sql_with_params()

    with kept.cursor() as cursor:
        for _ in range(6):
            cursor.execute(sql, params)
            assert cursor.fetchall() == []

    assert [s for s in prepared_statements(kept) if 'FROM "sessions_app_studygroup"' in s and "$1" in s]


def test_its_parameters_travel_apart_from_the_sql(kept):
    """Server-side binding: what psycopg prepares is the SQL with $1, the value sent apart (never quoted into it)."""
    with kept.cursor() as cursor:
        for _ in range(6):
            cursor.execute('SELECT "slug" FROM "sessions_app_studygroup" WHERE "slug" = %s', ["it's; no SQL"])
            assert cursor.fetchall() == []

    assert 'SELECT "slug" FROM "sessions_app_studygroup" WHERE "slug" = $1' in prepared_statements(kept)
