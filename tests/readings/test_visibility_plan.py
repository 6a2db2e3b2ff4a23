"""The notes visibility rule as PostgreSQL runs it: "post before you peek" without walking the group's sessions.

`readings.selectors._visible_in_group` hides a group note from a plain member on
a passage that a "post before you peek" session reads, until they have posted
there. PostgreSQL looked for such a session among all of the group's sessions
(their group index, then a filter), for every note it read: most of a pack's
database time, growing with notes times sessions. An index holds only the
sessions that guard (migration sessions_app.0012).
"""

import json
from datetime import timedelta

import pytest
from django.db import connection

from readings.selectors import notes_visible_to
from sessions_app.models import Session
from tests.factories import NoteFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans"),
]


def plan_of(queryset) -> dict:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        explained = cursor.fetchone()[0]
    return (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.fixture
def many_notes(world, reading, member_b):
    """40 group notes by another member on the passages of the world's session's reading."""
    passages = list(reading.text.passages.filter(position__gte=10, position__lte=25))
    return [
        NoteFactory(author=member_b, passage=passages[n % len(passages)], visibility="group", body=f"note {n}")
        for n in range(40)
    ]


def test_a_groups_peek_sessions_are_found_through_their_own_index(world, many_notes):
    """An installation with many sessions, none of them guarded: the rule reads no session row to learn it."""
    start = world.session.starts_at
    Session.objects.bulk_create(
        [
            Session(
                group=(world.group, world.other_group)[n % 2],
                title=f"Week {n}",
                starts_at=start + timedelta(days=7 * n),
                ends_at=start + timedelta(days=7 * n, hours=2),
                timezone=world.session.timezone,
            )
            for n in range(1, 600)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sessions_app_session")
    membership = world.member.memberships.get(group=world.group)

    plan = plan_of(notes_visible_to(world.member, membership=membership))

    sessions = [node for node in nodes(plan) if node.get("Relation Name") == "sessions_app_session"]
    assert [node.get("Index Name") for node in sessions] == ["session_peek_by_group"]
    assert sum(node["Actual Rows"] + node.get("Rows Removed by Filter", 0) for node in sessions) == 0
