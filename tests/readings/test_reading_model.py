"""The one read model of a reading (`readings.reading_model.session_reading`), tested directly.

The reader page and the pack present it; their own tests check what they show.
This pins the model: which passages a session reads (overlapping readings show
a passage once), whose notes are in it, threads nested by parent, orphans apart,
and a fixed number of queries.
"""

import pytest

from readings.enums import AnchorState
from readings.models import Note
from readings.reading_model import session_reading
from readings.services.assignments import assignment_create
from readings.services.notes import note_create, note_mark_helpful
from sessions_app.selectors import membership_for
from tests.factories import MembershipFactory, NoteFactory, TextFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def text(world):
    return TextFactory(group=world.group, passages=8)


def passage(text, position):
    return text.passages.get(position=position)


def model_for(user, world, **kwargs):
    return session_reading(user, membership_for(user, world.group.pk), world.session.pk, **kwargs)


def shape(model) -> list[tuple[int, list[int]]]:
    """(reading id, positions of its passages) for each reading."""
    return [(reading.id, [p.position for p in reading.passages]) for reading in model.readings]


def test_overlapping_readings_show_each_passage_once_in_the_first_reading_that_holds_it(world, text):
    first = assignment_create(
        session=world.session, text=text, start_passage=passage(text, 2), end_passage=passage(text, 5)
    )
    second = assignment_create(
        session=world.session, text=text, start_passage=passage(text, 4), end_passage=passage(text, 7)
    )
    NoteFactory(author=world.member, passage=passage(text, 4), body="On four.")

    model = model_for(world.member, world)

    assert shape(model) == [(first.pk, [2, 3, 4, 5]), (second.pk, [6, 7])]
    on_four = [note.body for r in model.readings for p in r.passages for note in p.notes]
    assert on_four == ["On four."]


def test_replies_nest_under_the_note_they_answer_however_deep(world, text):
    assignment_create(session=world.session, text=text, start_passage=passage(text, 1), end_passage=passage(text, 3))
    root = NoteFactory(author=world.member, passage=passage(text, 2), body="Root.")
    answer = note_create(author=world.facilitator, passage=root.passage, body="Answer.", parent=root)
    deeper = note_create(author=world.member, passage=root.passage, body="Deeper.", parent=answer)
    beside = note_create(author=world.organizer, passage=root.passage, body="Beside.", parent=root)

    model = model_for(world.organizer, world)

    (top,) = model.readings[0].passages[1].notes
    assert (top.id, [reply.id for reply in top.replies]) == (root.pk, [answer.pk, beside.pk])
    assert [reply.id for reply in top.replies[0].replies] == [deeper.pk]
    assert [note.id for note in top.thread()] == [answer.pk, deeper.pk, beside.pk]
    assert (top.thread_size, model.top, set(model.notes)) == (4, [top], {root.pk, answer.pk, deeper.pk, beside.pk})


def test_notes_are_those_the_person_may_see_with_counts_and_their_own_marks(world, text):
    assignment_create(session=world.session, text=text, start_passage=passage(text, 1), end_passage=passage(text, 3))
    other = UserFactory(username="other")
    MembershipFactory(group=world.group, user=other)
    shared = NoteFactory(author=other, passage=passage(text, 1), body="Shared.")
    NoteFactory(author=other, passage=passage(text, 1), body="Theirs alone.", visibility="private")
    mine = NoteFactory(author=world.member, passage=passage(text, 1), body="Mine alone.", visibility="private")
    note_mark_helpful(note=shared, user=world.member)

    model = model_for(world.member, world, for_page=True)

    notes = {note.body: note for note in model.readings[0].passages[0].notes}
    assert sorted(notes) == ["Mine alone.", "Shared."]
    assert (notes["Shared."].helpful_count, notes["Shared."].helpful_by_me) == (1, True)
    assert (notes["Mine alone."].helpful_count, notes["Mine alone."].id) == (None, mine.pk)  # private: no count
    assert notes["Shared."].author_name == other.name


def test_orphaned_notes_and_notes_on_retired_passages_go_to_their_texts_first_reading(world, text):
    first = assignment_create(
        session=world.session, text=text, start_passage=passage(text, 1), end_passage=passage(text, 4)
    )
    assignment_create(session=world.session, text=text, start_passage=passage(text, 3), end_passage=passage(text, 6))
    orphan = NoteFactory(author=world.member, passage=passage(text, 5), body="Lost words.")
    Note.objects.filter(pk=orphan.pk).update(anchor_state=AnchorState.ORPHANED)
    on_retired = NoteFactory(author=world.member, passage=passage(text, 2), body="Retired passage.")
    text.passages.filter(position=2).update(retired=True)

    model = model_for(world.member, world)

    assert shape(model) == [(first.pk, [1, 3, 4]), (model.readings[1].id, [5, 6])]
    assert [note.id for note in model.readings[0].orphaned_notes] == [on_retired.pk]
    assert [note.id for note in model.readings[1].orphaned_notes] == [orphan.pk]
    assert [note for r in model.readings for p in r.passages for note in p.notes] == []


def test_one_passage_alone_keeps_its_reading_and_only_its_notes(world, text):
    assignment_create(session=world.session, text=text, start_passage=passage(text, 1), end_passage=passage(text, 3))
    NoteFactory(author=world.member, passage=passage(text, 1), body="One.")
    two = NoteFactory(author=world.member, passage=passage(text, 2), body="Two.")

    model = model_for(world.member, world, passage_id=two.passage_id)

    assert shape(model) == [(model.readings[0].id, [2])]
    assert [note.id for note in model.top] == [two.pk]


@pytest.mark.parametrize(("passages", "notes"), [(3, 2), (30, 60)])
def test_the_model_costs_four_queries_whatever_its_size(world, passages, notes, django_assert_num_queries):
    text = TextFactory(group=world.group, passages=passages)
    rows = list(text.passages.order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=rows[0], end_passage=rows[-1])
    for n in range(notes):
        root = NoteFactory(author=world.member, passage=rows[n % passages], body=f"Note {n}.")
        note_create(author=world.facilitator, passage=root.passage, body="Reply.", parent=root)
    membership = membership_for(world.member, world.group.pk)

    with django_assert_num_queries(4):  # readings, passages, notes (with authors), their tags and mentions (one)
        model = session_reading(world.member, membership, world.session.pk, for_page=True)

    assert (len(model.top), len(model.notes)) == (notes, 2 * notes)


def test_each_note_carries_its_own_tags_by_name_and_mentions_in_order_replies_too(world, text):
    assignment_create(session=world.session, text=text, start_passage=passage(text, 1), end_passage=passage(text, 4))
    root = note_create(
        author=world.member,
        passage=passage(text, 2),
        body=f"Ask @{world.organizer.username} and @{world.facilitator.username}.",
        visibility="group",
        tags=["zeta", "alpha"],
    )
    reply = note_create(author=world.facilitator, passage=root.passage, body="Noted.", parent=root, tags=["middle"])
    note_create(author=world.member, passage=passage(text, 3), body="Mine alone.", visibility="private", tags=["own"])

    model = model_for(world.facilitator, world)

    mentioned = [mention["username"] for mention in model.notes[root.pk].mentions]
    assert (model.notes[root.pk].tags, mentioned) == (
        ["alpha", "zeta"],
        [world.organizer.username, world.facilitator.username],
    )
    assert (model.notes[reply.pk].tags, model.notes[reply.pk].mentions) == (["middle"], [])
    assert sorted(tag for note in model.notes.values() for tag in note.tags) == ["alpha", "middle", "zeta"]
