import math

import pytest

from readings.models import Passage, ReadingAssignment
from readings.services.assignments import assignment_create
from readings.services.importing import text_import, text_revise

from .conftest import at

pytestmark = pytest.mark.django_db


def test_organizer_assigns_a_range_and_sees_reading_minutes(world, api, essay):
    response = api(world.organizer).post(
        f"/api/v1/sessions/{world.session.id}/readings/",
        {
            "text": essay.id,
            "start_passage": at(essay, 10).id,
            "end_passage": at(essay, 25).id,
            "required": True,
            "instructions": "Read closely.",
        },
        format="json",
    )

    words = sum(p.word_count for p in essay.passages.filter(position__range=(10, 25)))
    assert response.status_code == 201
    body = response.json()
    assert (body["start_passage"]["position"], body["end_passage"]["position"]) == (10, 25)
    assert (body["word_count"], body["reading_minutes"]) == (words, math.ceil(words / 230))
    assert body["text"] == {"id": essay.id, "title": essay.title, "author": ""}
    session = api(world.member).get(f"/api/v1/sessions/{world.session.id}/").json()
    assert session["reading_minutes"] == math.ceil(words / 230)


def test_session_reading_minutes_add_up_assignments(world, api, essay, reading):
    api(world.organizer).post(
        f"/api/v1/sessions/{world.session.id}/readings/",
        {"text": essay.id, "start_passage": at(essay, 30).id, "end_passage": at(essay, 31).id, "required": False},
        format="json",
    )

    listed = api(world.member).get(f"/api/v1/sessions/{world.session.id}/readings/").json()["results"]
    session = api(world.member).get(f"/api/v1/sessions/{world.session.id}/").json()

    assert [(r["position"], r["required"]) for r in listed] == [(1, True), (2, False)]
    assert session["reading_minutes"] == sum(r["reading_minutes"] for r in listed)


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("backwards", "end_passage", "The range runs backwards (§25 to §10); swap the ends."),
        ("across texts", "end_passage", "is not part of"),
        ("other group", "text", "No such text in this session's group."),
        ("missing passage", "start_passage", "No such passage."),
    ],
)
def test_bad_ranges_are_400s_and_write_nothing(world, api, essay, case, field, message):
    other = text_import(group=world.group, created_by=None, content="Other\n\nA paragraph.")
    foreign = text_import(group=world.other_group, created_by=None, content="Foreign\n\nA paragraph.")
    payload = {
        "backwards": {"text": essay.id, "start_passage": at(essay, 25).id, "end_passage": at(essay, 10).id},
        "across texts": {"text": essay.id, "start_passage": at(essay, 10).id, "end_passage": at(other, 2).id},
        "other group": {"text": foreign.id, "start_passage": at(foreign, 1).id, "end_passage": at(foreign, 2).id},
        "missing passage": {"text": essay.id, "start_passage": 999999, "end_passage": at(essay, 2).id},
    }[case]

    response = api(world.organizer).post(f"/api/v1/sessions/{world.session.id}/readings/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert message in response.json()["detail"]
    assert not ReadingAssignment.objects.exists()


def test_member_cannot_assign_and_listed_facilitator_can(world, api, essay):
    payload = {"text": essay.id, "start_passage": at(essay, 1).id, "end_passage": at(essay, 2).id}

    member = api(world.member).post(f"/api/v1/sessions/{world.session.id}/readings/", payload, format="json")
    facilitator = api(world.facilitator).post(f"/api/v1/sessions/{world.session.id}/readings/", payload, format="json")

    assert member.status_code == 403
    assert facilitator.status_code == 201


def test_update_and_delete_recount_the_session(world, api, essay, reading):
    client = api(world.organizer)
    url = f"/api/v1/sessions/{world.session.id}/readings/{reading.id}/"

    shrunk = client.patch(url, {"end_passage": at(essay, 10).id}, format="json")
    deleted = client.delete(url)

    assert shrunk.json()["word_count"] == at(essay, 10).word_count
    assert deleted.status_code == 204
    world.session.refresh_from_db()
    assert world.session.reading_minutes == 0


def test_inserted_passage_inside_the_range_belongs_to_it(world, essay, reading):
    twelfth = at(essay, 12).body
    added = "A new paragraph, ten words long, added in the middle here."
    text_revise(text=essay, created_by=None, content=essay.full_text.replace(twelfth, f"{twelfth}\n\n{added}"))

    reading.refresh_from_db()
    start, end = reading.start_passage.position, reading.end_passage.position
    inside = Passage.objects.filter(text=essay, retired=False, position__gte=start, position__lte=end)
    assert inside.filter(body__startswith="A new paragraph").exists()
    assert reading.word_count == sum(p.word_count for p in inside)


def test_readings_list_query_count_does_not_grow(world, api, essay, django_assert_num_queries):
    client = api(world.member)
    url = f"/api/v1/sessions/{world.session.id}/readings/"
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 1), end_passage=at(essay, 2))
    # 3: no COUNT query while the list fits on its first page (core.api.pagination), and a GET opens no
    # transaction (core/transactions.py).
    with django_assert_num_queries(3):
        client.get(url)
    for n in range(4):
        assignment_create(session=world.session, text=essay, start_passage=at(essay, n + 3), end_passage=at(essay, 9))
    with django_assert_num_queries(3):
        assert client.get(url).json()["count"] == 5
