"""The notes visibility rule as PostgreSQL runs it: "post before you peek" costs a lookup per query, not per note.

`readings.selectors._visible_in_group` hides a group note from a plain member on
a passage that a "post before you peek" session reads, until they have posted
there. PostgreSQL first ran that test as a subquery per note (an EXISTS on the
note's passage), which walked the group's sessions again for every note: most of
a pack's database time, and growing with notes times sessions. The guarded
passages are now one subquery that does not depend on the note, found once and
hashed, through an index holding only the sessions that guard (migration
sessions_app.0012).
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


@pytest.mark.parametrize("guarded", [False, True])
def test_the_peek_rule_is_looked_up_once_per_query_not_once_per_note(world, many_notes, guarded):
    Session.objects.filter(pk=world.session.pk).update(post_before_peek=guarded)
    membership = world.member.memberships.get(group=world.group)
    queryset = notes_visible_to(world.member, membership=membership)

    plan = plan_of(queryset)

    subplans = [node for node in nodes(plan) if node.get("Parent Relationship") == "SubPlan"]
    assert subplans, "the member's rule has the peek subqueries"
    assert {node["Subplan Name"]: node["Actual Loops"] for node in subplans if node["Actual Loops"] > 1} == {}
    assert queryset.count() == (0 if guarded else 40)  # the rule itself, unchanged


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
