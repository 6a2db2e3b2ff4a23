"""The facilitator's brief through the API: where members got stuck (the stuck map)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.services.notes import note_create

from ..factories import MembershipFactory, UserFactory
from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_b(world):
    user = UserFactory(username="member_b")
    MembershipFactory(group=world.group, user=user)
    return user


def stuck(api, user, world):
    response = api(user).get(f"/api/v1/sessions/{world.session.id}/discussion/")
    assert response.status_code == 200
    return response.json()["stuck"]


def highlight(user, passage, words: str, visibility="group"):
    start = passage.body.index(words)
    selector = {"start": start, "end": start + len(words), "exact": words}
    return note_create(author=user, passage=passage, body="", selector=selector, visibility=visibility, highlight=True)


def test_a_note_tagged_question_puts_its_passage_at_the_top(world, api, essay, reading, member_b):
    p14, p12 = at(essay, 14), at(essay, 12)
    note_create(author=world.member, passage=p14, body="I do not follow this.", visibility="group", tags=["question"])
    note_create(author=member_b, passage=p14, body="Who were they?", visibility="facilitators")
    note_create(author=member_b, passage=p12, body="Confusing.", visibility="group", tags=["confused"])
    note_create(author=member_b, passage=p12, body="A remark.", visibility="group")
    words = " ".join(p14.body.split()[:3])
    highlight(world.member, p14, words)
    highlight(member_b, p14, words, visibility="facilitators")
    highlight(member_b, p12, p12.body.split()[0])

    rows = stuck(api, world.facilitator, world)

    assert [(row["position"], row["asking"]) for row in rows] == [(14, 2), (12, 1)]
    assert rows[0]["most_highlighted"] == {"words": words, "times": 2}
    assert rows[0]["anchor"] == p14.anchor


def test_private_notes_and_highlights_never_count(world, api, essay, reading, member_b):
    p14, p20 = at(essay, 14), at(essay, 20)
    note_create(author=world.member, passage=p14, body="Why?", visibility="group")
    for author in (member_b, world.facilitator):  # even the viewer's own private ones
        note_create(author=author, passage=p20, body="Why though?", visibility="private")
        note_create(author=author, passage=p14, body="Me too?", visibility="private")
        highlight(author, p14, p14.body.split()[0], visibility="private")

    rows = stuck(api, world.facilitator, world)

    assert [(row["position"], row["asking"], row["most_highlighted"]) for row in rows] == [(14, 1, None)]


def test_the_stuck_map_costs_the_same_for_few_and_many_notes(world, api, essay, reading, member_b):
    def queries_with(passages: int) -> int:
        for position in range(10, 10 + passages):
            note_create(author=member_b, passage=at(essay, position), body="Why?", visibility="group")
            highlight(member_b, at(essay, position), at(essay, position).body.split()[0])
        with CaptureQueriesContext(connection) as queries:
            assert len(stuck(api, world.facilitator, world)) == passages
        return len(queries)

    assert queries_with(2) == queries_with(8)
