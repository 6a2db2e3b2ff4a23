"""Reading progress through the API: what a member has read, and what facilitators see of the group."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.models import PassageRead, ReadingVisit
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

from ..factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

TEN_WORDS = "one two three four five six seven eight nine {n}."


@pytest.fixture
def reading(world):
    """Four required passages of ten words (§2–§5) and an optional one (§6, ten words)."""
    content = "Title line\n\n" + "\n\n".join(TEN_WORDS.format(n=n) for n in range(5))
    text = text_import(group=world.group, created_by=world.organizer, content=content)
    p = {passage.position: passage for passage in text.passages.all()}
    assignment_create(session=world.session, text=text, start_passage=p[2], end_passage=p[5])
    assignment_create(session=world.session, text=text, start_passage=p[6], end_passage=p[6], required=False)
    return p


def url(world) -> str:
    return f"/api/v1/sessions/{world.session.id}/progress/"


def read(api, user, world, *passages, last=None):
    body = {"passages": [passage.id for passage in passages]}
    if last is not None:
        body["last_passage"] = last.id
    return api(user).post(url(world), body, format="json")


def test_member_who_read_half_sees_fifty_percent(world, api, reading):
    response = read(api, world.member, world, reading[2], reading[3], last=reading[3])

    assert response.status_code == 200
    mine = response.json()["mine"]
    assert (mine["required_words"], mine["read_words"], mine["percent"], mine["status"]) == (40, 20, 50, "in_progress")
    assert mine["passages_read"] == [reading[2].id, reading[3].id]
    assert mine["last_passage"] == {"id": reading[3].id, "anchor": "p-3", "position": 3, "text": reading[3].text_id}
    assert [(r["required"], r["words"], r["read_words"], r["percent"]) for r in mine["readings"]] == [
        (True, 40, 20, 50),
        (False, 10, 0, 0),
    ]
    assert response.json()["group"] is None


def test_optional_reading_does_not_count_and_everything_required_is_finished(world, api, reading):
    read(api, world.member, world, reading[6])
    mine = read(api, world.member, world, reading[2], reading[3], reading[4], reading[5]).json()["mine"]

    assert (mine["percent"], mine["status"]) == (100, "finished")
    assert mine["readings"][1]["percent"] == 100


def test_recording_is_idempotent(world, api, reading):
    read(api, world.member, world, reading[2])
    again = read(api, world.member, world, reading[2], reading[2])

    assert again.json()["mine"]["percent"] == 25
    assert PassageRead.objects.filter(user=world.member).count() == 1
    assert ReadingVisit.objects.filter(user=world.member).count() == 1


def test_an_empty_batch_records_that_the_reading_was_opened(world, api, reading):
    before = api(world.member).get(url(world)).json()["mine"]

    after = read(api, world.member, world).json()["mine"]

    assert (before["status"], before["opened_at"]) == ("not_opened", None)
    assert (after["status"], after["percent"]) == ("in_progress", 0)
    assert after["opened_at"] is not None


def test_passages_outside_the_reading_are_refused_and_nothing_is_written(world, api, reading):
    outside = reading[1]  # the title line: not assigned

    response = read(api, world.member, world, reading[2], outside)
    bad_last = read(api, world.member, world, reading[2], last=outside)

    assert response.status_code == 400
    assert response.json()["errors"] == {"passages": [f"Not passages of this session's reading: {outside.id}."]}
    assert bad_last.json()["errors"] == {"last_passage": ["Not a passage of this session's reading."]}
    assert not PassageRead.objects.exists()
    assert not ReadingVisit.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "passages"),
        ({"passages": "3"}, "passages"),
        ({"passages": [0]}, "passages.0"),
        ({"passages": list(range(1, 502))}, "passages"),
    ],
)
def test_bad_batches_are_a_400_naming_the_field(world, api, reading, body, field):
    response = api(world.member).post(url(world), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_facilitator_sees_each_member(world, api, reading, member_b):
    read(api, world.member, world, reading[2], reading[3])
    note_create(author=world.member, passage=reading[2], body="Group note", visibility="group")
    note_create(author=world.member, passage=reading[2], body="Private note", visibility="private")
    parent = note_create(author=member_b, passage=reading[3], body="B's note", visibility="group")
    note_create(author=world.member, passage=reading[3], body="A reply", parent=parent)

    body = api(world.facilitator).get(url(world)).json()

    members = {row["user"]["name"]: row for row in body["group"]["members"]}
    member = members["Member"]
    assert (member["opened"], member["percent"], member["status"]) == (True, 50, "in_progress")
    assert (member["notes"], member["replies"]) == (1, 1)  # the private note is nobody else's business
    assert member["last_activity_at"] is not None
    bea = members["Bea"]
    assert (bea["opened"], bea["percent"], bea["status"], bea["notes"]) == (False, 0, "not_opened", 1)
    assert body["group"]["totals"] == {
        "members": 4,
        "not_opened": 3,
        "in_progress": 1,
        "finished": 0,
        "average_percent": 12,
    }


def test_facilitators_own_private_notes_are_not_counted_in_their_own_row(world, api, reading):
    """Private notes count nowhere, the viewer's own included (the brief, the session page and this API agree)."""
    note_create(author=world.facilitator, passage=reading[2], body="Only for me", visibility="private")
    note_create(author=world.facilitator, passage=reading[3], body="For the group", visibility="group")
    note_create(
        author=world.facilitator,
        passage=reading[3],
        highlight=True,
        selector={"start": 0, "end": 3, "exact": "one"},
        visibility="private",
    )

    members = {row["user"]["name"]: row for row in api(world.facilitator).get(url(world)).json()["group"]["members"]}

    assert (members["Facilitator"]["notes"], members["Facilitator"]["replies"]) == (1, 0)


def test_group_can_show_facilitators_totals_only(world, api, reading):
    read(api, world.member, world, reading[2])
    switched = api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/", {"member_progress_visible": False}, format="json"
    )

    body = api(world.facilitator).get(url(world)).json()

    assert switched.json()["member_progress_visible"] is False
    assert body["group"]["members"] is None
    assert body["group"]["totals"]["in_progress"] == 1


def test_facilitator_view_costs_the_same_for_10_and_40_members(world, api, reading):
    def queries_with(count: int) -> int:
        while world.group.memberships.count() < count:
            user = UserFactory()
            MembershipFactory(group=world.group, user=user)
            read(api, user, world, reading[2])
            note_create(author=user, passage=reading[3], body="Note", visibility="group")
        with CaptureQueriesContext(connection) as queries:
            response = api(world.facilitator).get(url(world))
        assert len(response.json()["group"]["members"]) == count
        return len(queries)

    assert queries_with(10) == queries_with(40)


def test_recording_costs_the_same_for_1_and_5_passages(world, api, reading, member_b):
    with CaptureQueriesContext(connection) as one:
        read(api, world.member, world, reading[2])
    with CaptureQueriesContext(connection) as five:
        read(api, member_b, world, *(reading[n] for n in (2, 3, 4, 5, 6)))

    assert len(one) == len(five)
