"""A new revision of a text resolves every note on it again: anchored, moved or orphaned."""

import pytest

from readings.models import Note, Text
from readings.services.importing import text_revise
from readings.services.notes import note_create

pytestmark = pytest.mark.django_db


def with_one(text: Text, start: str):
    [found] = [p for p in text.passages.filter(retired=False) if p.body.startswith(start)]
    return found


def note_on(world, passage, exact: str, *, occurrence: int = 0, body: str = "note") -> Note:
    start = -1
    for _ in range(occurrence + 1):
        start = passage.body.index(exact, start + 1)
    selector = {"start": start, "end": start + len(exact), "exact": exact}
    return note_create(author=world.member, passage=passage, body=body, visibility="group", selector=selector)


def quote_of(note: Note) -> str:
    note.refresh_from_db()
    return note.passage.body[note.selector["start"] : note.selector["end"]]


@pytest.fixture
def noted(world, essay):
    """Notes on the essay, one per edit in the acceptance list, plus bystanders."""
    inserted_before = with_one(essay, "The October revolution was such")
    split = with_one(essay, "So, getting this question of the worker-peasant alliance right")
    deleted = with_one(essay, "Stalin also spells out the international dimensions")
    return {
        "a": note_on(world, inserted_before, "towering achievement"),
        "b_first_half": note_on(world, split, "absolutely crucial"),
        "b_second_half": note_on(world, split, "Machiavellian"),
        "c": note_on(world, deleted, "international dimensions"),
        "elsewhere": note_on(world, with_one(essay, "Outside Russia, he says"), "three external circumstances"),
        "whole_passage": note_create(author=world.member, passage=with_one(essay, "Stalin sums up"), body="whole"),
        "whole_deleted": note_create(author=world.member, passage=deleted, body="whole, deleted"),
    }


def test_insert_split_and_delete_give_moved_moved_and_orphaned(world, essay, noted):
    reply = note_create(author=world.facilitator, passage=noted["c"].passage, body="reply", parent=noted["c"])
    content = (
        essay.full_text.replace(
            "October stands as such a towering achievement",
            "October stands, as we shall see in some detail, as such a towering achievement",
        )
        .replace("It spelt life or death for the revolution. ", "It spelt life or death for the revolution.\n\n")
        .replace(
            "Stalin also spells out the international dimensions of this relationship between worker and peasant.\n\n",
            "",
        )
    )

    text_revise(text=essay, created_by=None, content=content)

    states = {key: Note.objects.get(pk=note.pk).anchor_state for key, note in noted.items()}
    assert states == {
        "a": "moved",
        "b_first_half": "moved",
        "b_second_half": "moved",
        "c": "orphaned",
        "elsewhere": "anchored",
        "whole_passage": "anchored",
        "whole_deleted": "orphaned",
    }
    assert quote_of(noted["a"]) == "towering achievement"
    # The larger (second) half kept the paragraph's anchor; each note followed its words to its half.
    assert quote_of(noted["b_first_half"]) == "absolutely crucial"
    assert quote_of(noted["b_second_half"]) == "Machiavellian"
    first_half = Note.objects.get(pk=noted["b_first_half"].pk).passage
    second_half = Note.objects.get(pk=noted["b_second_half"].pk).passage
    assert first_half.body.endswith("It spelt life or death for the revolution.")
    assert second_half.body.startswith("Stalin is therefore ferocious")
    assert (second_half.pk, second_half.anchor) == (
        noted["b_second_half"].passage_id,
        noted["b_second_half"].passage.anchor,
    )
    orphan = Note.objects.get(pk=noted["c"].pk)
    assert (orphan.body, orphan.selector["exact"]) == ("note", "international dimensions")
    # The phrase survives only far away ("...of equally international dimensions"): offered, never attached.
    elsewhere = with_one(essay, "You can see how these three circumstances")
    assert [(c["passage"], c["anchor"]) for c in orphan.candidates] == [(elsewhere.pk, elsewhere.anchor)]
    assert orphan.passage_id == noted["c"].passage_id
    assert Note.objects.get(pk=reply.pk).anchor_state == "orphaned"
    assert Note.objects.count() == len(noted) + 1


def test_moved_selector_has_fresh_context(world, essay, noted):
    content = essay.full_text.replace("October stands as such", "Indeed, October stands as such")

    text_revise(text=essay, created_by=None, content=content)

    note = Note.objects.get(pk=noted["a"].pk)
    start = note.passage.body.index("towering achievement")
    assert note.selector == {
        "start": start,
        "end": start + len("towering achievement"),
        "exact": "towering achievement",
        "prefix": note.passage.body[start - 32 : start],
        "suffix": note.passage.body[start + 20 : start + 52],
    }


def test_quote_that_now_appears_twice_is_orphaned_with_candidates_not_guessed(world, essay):
    passage = with_one(essay, "The October revolution was such")
    note = note_on(world, passage, "momentous event")
    content = essay.full_text.replace(
        "The October revolution was such a momentous event,",
        "A momentous event. The October revolution was such an event, and truly a momentous event,",
    )

    text_revise(text=essay, created_by=None, content=content)

    note.refresh_from_db()
    assert note.anchor_state == "orphaned"
    assert [(c["passage"], c["position"]) for c in note.candidates] == [(passage.pk, passage.position)] * 2
    assert [c["start"] for c in note.candidates] == [
        m for m in range(len(note.passage.body)) if note.passage.body.startswith("momentous event", m)
    ]


def test_repeated_quote_in_the_same_context_is_moved(world, essay):
    passage = with_one(essay, "Unless we understand just how high the stakes were")
    note = note_on(world, passage, "NOT", occurrence=2)  # "...undivided leadership of the Bolsheviks might NOT prevail"
    content = essay.full_text.replace("Unless we understand", "Unless, today, we understand")

    text_revise(text=essay, created_by=None, content=content)

    note.refresh_from_db()
    assert note.anchor_state == "moved"
    assert note.passage.body[: note.selector["end"] + 8].endswith("Bolsheviks might NOT prevail")


def test_author_reattaches_an_orphaned_note(world, api, essay, noted):
    content = essay.full_text.replace(
        "Stalin also spells out the international dimensions of this relationship between worker and peasant.\n\n", ""
    )
    text_revise(text=essay, created_by=None, content=content)
    target = with_one(essay, "So what to the jaundiced eye")
    start = target.body.index("world revolution")

    response = api(world.member).patch(
        f"/api/v1/notes/{noted['c'].pk}/",
        {"passage": target.pk, "selector": {"start": start, "end": start + 16, "exact": "world revolution"}},
        format="json",
    )
    listed = api(world.member).get("/api/v1/notes/?anchor_state=orphaned").json()["results"]

    assert response.status_code == 200
    assert (response.json()["anchor_state"], response.json()["passage"]) == ("anchored", target.pk)
    assert [n["body"] for n in listed] == ["whole, deleted"]
