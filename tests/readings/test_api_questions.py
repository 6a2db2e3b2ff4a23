import pytest

from readings.models import DiscussionQuestion
from readings.services.importing import text_import

from .conftest import at

pytestmark = pytest.mark.django_db


def url(world, suffix: str = "") -> str:
    return f"/api/v1/sessions/{world.session.id}/questions/{suffix}"


def ask(api, user, world, **fields):
    return api(user).post(url(world), {"prompt": "Why did October succeed?", **fields}, format="json")


def test_organizer_adds_questions_tied_to_passages(world, api, essay, reading):
    response = ask(
        api,
        world.organizer,
        world,
        kind="opening",
        passages=[at(essay, 12).id, at(essay, 14).id],
        minutes=10,
        facilitator_notes="Start with the three external circumstances.",
    )

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("position", "kind", "minutes", "state", "facilitator_notes")} == {
        "position": 1,
        "kind": "opening",
        "minutes": 10,
        "state": "accepted",
        "facilitator_notes": "Start with the three external circumstances.",
    }
    assert body["passages"] == [at(essay, 12).id, at(essay, 14).id]


def test_members_never_see_facilitator_notes(world, api, essay, reading):
    ask(api, world.organizer, world, facilitator_notes="Secret plan")

    member = api(world.member).get(url(world)).json()["results"]
    facilitator = api(world.facilitator).get(url(world)).json()["results"]

    assert "facilitator_notes" not in member[0]
    assert facilitator[0]["facilitator_notes"] == "Secret plan"


def test_member_proposes_and_a_facilitator_accepts(world, api, essay, reading):
    proposed = ask(api, world.member, world, prompt="What about the peasants?")
    second = api(world.organizer).get(url(world)).json()["results"]
    other_member_view = api(world.outsider).get(url(world))
    accepted = api(world.facilitator).post(url(world, f"{proposed.json()['id']}/accept/"))

    assert proposed.json()["state"] == "proposed"
    assert [q["state"] for q in second] == ["proposed"]
    assert other_member_view.status_code == 404
    assert accepted.json()["state"] == "accepted"


def test_members_see_accepted_questions_and_their_own_proposals_only(world, api, essay, reading):
    from ..factories import MembershipFactory, UserFactory

    other = UserFactory(username="other")
    MembershipFactory(group=world.group, user=other)
    ask(api, world.organizer, world, prompt="Accepted one")
    ask(api, world.member, world, prompt="Mine, proposed")
    ask(api, other, world, prompt="Theirs, proposed")
    rejected = ask(api, other, world, prompt="Theirs, rejected").json()["id"]
    api(world.organizer).post(url(world, f"{rejected}/reject/"))

    mine = [q["prompt"] for q in api(world.member).get(url(world)).json()["results"]]
    theirs = [q["prompt"] for q in api(other).get(url(world)).json()["results"]]
    organizer = [q["prompt"] for q in api(world.organizer).get(url(world)).json()["results"]]

    assert mine == ["Accepted one", "Mine, proposed"]
    assert theirs == ["Accepted one", "Theirs, proposed", "Theirs, rejected"]
    assert organizer == ["Accepted one", "Mine, proposed", "Theirs, proposed", "Theirs, rejected"]


def test_member_cannot_accept_or_write_facilitator_notes(world, api, essay, reading):
    proposed = ask(api, world.member, world).json()["id"]

    accept = api(world.member).post(url(world, f"{proposed}/accept/"))
    notes = ask(api, world.member, world, facilitator_notes="sneaky")

    assert accept.status_code == 403
    assert notes.status_code == 400
    assert notes.json()["detail"] == "facilitator_notes: Facilitator notes are for those who lead the session."


def test_reorder_puts_questions_in_the_given_order(world, api, essay, reading):
    ids = [ask(api, world.organizer, world, prompt=f"Q{n}").json()["id"] for n in range(3)]

    response = api(world.facilitator).post(url(world, "reorder/"), {"order": ids[::-1]}, format="json")
    listed = api(world.member).get(url(world)).json()["results"]

    assert [q["prompt"] for q in response.json()] == ["Q2", "Q1", "Q0"]
    assert [(q["prompt"], q["position"]) for q in listed] == [("Q2", 1), ("Q1", 2), ("Q0", 3)]


def test_reorder_must_name_every_question_once(world, api, essay, reading):
    ids = [ask(api, world.organizer, world, prompt=f"Q{n}").json()["id"] for n in range(2)]

    response = api(world.organizer).post(url(world, "reorder/"), {"order": [ids[0], ids[0]]}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == f"order: List every question of this session once; expected the ids {ids}."


def test_question_passages_must_come_from_assigned_texts(world, api, essay, reading):
    other = text_import(group=world.group, created_by=None, content="Other\n\nNot assigned.")

    response = ask(api, world.organizer, world, passages=[at(other, 2).id])

    assert response.status_code == 400
    assert "not in a text this session reads" in response.json()["detail"]
    assert not DiscussionQuestion.objects.exists()


def test_question_edit_and_delete(world, api, essay, reading):
    question = ask(api, world.organizer, world).json()["id"]

    edited = api(world.facilitator).patch(
        url(world, f"{question}/"), {"prompt": "Sharper?", "minutes": 5}, format="json"
    )
    member_edit = api(world.member).patch(url(world, f"{question}/"), {"prompt": "x"}, format="json")
    deleted = api(world.organizer).delete(url(world, f"{question}/"))

    assert (edited.json()["prompt"], edited.json()["minutes"]) == ("Sharper?", 5)
    assert member_edit.status_code == 403
    assert deleted.status_code == 204
    assert not DiscussionQuestion.objects.exists()


def test_questions_list_query_count_does_not_grow(world, api, essay, reading, django_assert_num_queries):
    ask(api, world.organizer, world, passages=[at(essay, 12).id])
    client = api(world.member)
    # 4: no COUNT query while the list fits on its first page (core.api.pagination); 50 do. A GET opens no
    # transaction (core/transactions.py).
    with django_assert_num_queries(4):
        client.get(url(world))
    for n in range(49):
        ask(api, world.organizer, world, prompt=f"Q{n}", passages=[at(essay, 12).id, at(essay, 13).id])
    with django_assert_num_queries(4):
        assert client.get(url(world)).json()["count"] == 50


def test_question_move_swaps_with_a_neighbour_and_stops_at_the_ends(world, api, essay, reading):
    from readings.services.questions import question_move

    ids = [ask(api, world.organizer, world, prompt=f"Q{n}").json()["id"] for n in range(3)]
    first, _, last = (DiscussionQuestion.objects.get(pk=pk) for pk in ids)

    question_move(question=last, up=True)
    question_move(question=first, up=True)  # already first: nothing moves

    assert list(DiscussionQuestion.objects.order_by("position").values_list("prompt", flat=True)) == ["Q0", "Q2", "Q1"]
