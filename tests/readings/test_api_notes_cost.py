"""What writing a note costs (queries), and that the cheaper ways of writing one answer and refuse as before."""

import pytest
from django.core.exceptions import ValidationError

from readings.models import Note
from readings.services.notes import note_create
from sessions_app.models import Membership

from .conftest import at

pytestmark = pytest.mark.django_db


def post_note(api, user, passage, body="Why *here*?", **fields):
    return api(user).post("/api/v1/notes/", {"passage": passage.id, "body": body, **fields}, format="json")


# bench/load.py's note: a group note on a passage of a session's reading, no tag, no mention, for the audience
# the member chose last. SAVEPOINT and RELEASE of the request's transaction (in the test's); the passage with the
# member's membership (one query); the note written; who it reaches, the readings holding its passage and their
# sessions' pack versions raised (three). No UPDATE of the remembered audience (the membership read says it
# already), no savepoint of the service's (it checks everything before it writes). It was ten.
MIX_NOTE_QUERIES = 7


def test_the_load_mix_note_costs_seven_queries_and_answers_as_it_reads_back(
    world, api, essay, reading, django_assert_num_queries
):
    passage = at(essay, 12)
    assert post_note(api, world.member, passage, "First.", visibility="group").status_code == 201

    with django_assert_num_queries(MIX_NOTE_QUERIES):
        created = post_note(api, world.member, passage, "A thought: *why* does the author say so?", visibility="group")

    assert created.status_code == 201
    assert created.json() == api(world.member).get(f"/api/v1/notes/{created.json()['id']}/").json()
    assert created.json()["visibility"] == "group"


def test_a_new_audience_is_remembered_with_one_update_and_the_same_one_with_none(
    world, api, essay, reading, django_assert_num_queries
):
    passage = at(essay, 12)
    for visibility, queries in (("private", MIX_NOTE_QUERIES + 1), ("private", MIX_NOTE_QUERIES)):
        with django_assert_num_queries(queries):
            assert post_note(api, world.member, passage, visibility=visibility).status_code == 201
        assert Membership.objects.get(user=world.member, group=world.group).note_visibility == visibility

    # Without an audience, the note is for the one remembered, read with the passage: no query more.
    with django_assert_num_queries(MIX_NOTE_QUERIES):
        created = post_note(api, world.member, passage)
    assert created.json()["visibility"] == "private"


def test_without_an_audience_remembered_a_note_takes_the_groups_default(world, api, essay, reading):
    world.group.default_note_visibility = "facilitators"
    world.group.save()

    created = post_note(api, world.member, at(essay, 12))

    assert created.status_code == 201
    assert created.json()["visibility"] == "facilitators"
    assert Membership.objects.get(user=world.member, group=world.group).note_visibility == ""


@pytest.mark.parametrize("passage_id", [0, -1, 2**63, -(2**63) - 1, 10**40])
def test_a_passage_id_no_passage_has_is_no_such_passage(world, api, essay, reading, passage_id):
    response = api(world.member).post("/api/v1/notes/", {"passage": passage_id, "body": "Hm."}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"passage": ["No such passage in your groups."]}


def test_nobody_writes_on_a_passage_of_a_group_they_are_not_in(world, api, essay, reading):
    response = post_note(api, world.outsider, at(essay, 12), visibility="group")

    assert response.status_code == 400
    assert response.json()["errors"] == {"passage": ["No such passage in your groups."]}
    assert not Note.objects.exists()


def test_a_refused_note_leaves_the_callers_transaction_usable(world, essay, reading, member_b):
    """The service writes with no savepoint of its own, so it must refuse before it writes anything: after each
    refusal the caller (here the test's transaction) goes on querying, and nothing was written."""
    passage = at(essay, 12)
    top = note_create(author=member_b, passage=passage, body="Top.", visibility="group")
    deleted = note_create(author=member_b, passage=passage, body="Gone.", visibility="group")
    Note.objects.filter(pk=deleted.pk).update(deleted_at=reading.session.starts_at)
    deleted.refresh_from_db()
    retired = at(essay, 13)
    retired.retired = True
    refusals = [
        {"passage": passage, "body": ""},
        {"passage": passage, "body": "x" * 100_000},
        {"passage": passage, "body": "Hm.", "visibility": "everyone"},
        {"passage": retired, "body": "Hm."},
        {"passage": passage, "body": "Hm.", "selector": {"start": 0, "end": 3, "exact": "not there"}},
        {"passage": passage, "body": "Hm.", "tags": ["not a tag!"]},
        {"passage": passage, "body": "Hm. @nobody"},
        {"passage": passage, "body": "Hm.", "parent": deleted},
        {"passage": at(essay, 14), "body": "Hm.", "parent": top},
        {"passage": passage, "body": "Hm.", "highlight": True},
    ]
    before = Note.objects.count()
    membership = Membership.objects.get(user=world.member, group=world.group)
    for fields in refusals:
        with pytest.raises(ValidationError):
            note_create(author=world.member, membership=membership, **fields)
        assert Note.objects.count() == before, fields
    assert Membership.objects.get(pk=membership.pk).note_visibility == ""


def test_a_note_answers_what_its_declared_fields_answer(world, api, essay, reading, member_b):
    """`NoteSerializer` writes each note directly (readings.api.serializers): the same JSON as DRF's fields give,
    for notes of every kind: quoted, tagged and mentioning, marked helpful, private, hidden, orphaned with
    candidates, a highlight, and a deleted one kept for its reply."""
    from rest_framework import serializers as drf

    from readings.api.serializers import NoteSerializer
    from readings.selectors import notes_for_api

    passage = at(essay, 12)
    exact = "(who were hungry for land)"
    start = passage.body.index(exact)
    quoted = post_note(
        api,
        member_b,
        passage,
        "**Key**, @organizer?",
        visibility="group",
        selector={"start": start, "end": start + len(exact), "exact": exact},
        tags=["land", "Peasants"],
    ).json()
    api(world.organizer).post(f"/api/v1/notes/{quoted['id']}/helpful/")
    post_note(api, world.organizer, passage, "Mine alone.", visibility="private")
    hidden = post_note(api, member_b, passage, "Off topic.", visibility="group").json()
    api(world.organizer).post(f"/api/v1/notes/{hidden['id']}/hide/", {"hidden": True}, format="json")
    orphan = post_note(api, member_b, at(essay, 13), "Lost.", visibility="group").json()
    Note.objects.filter(pk=orphan["id"]).update(
        anchor_state="orphaned",
        candidates=[{"passage": passage.id, "anchor": passage.anchor, "position": 12, "start": 3, "end": 9}],
    )
    highlight = {
        "passage": passage.id,
        "highlight": True,
        "selector": {"start": start, "end": start + 4, "exact": "(who"},
    }
    assert api(world.organizer).post("/api/v1/notes/", highlight, format="json").status_code == 201
    gone = post_note(api, member_b, passage, "Soon gone.", visibility="group").json()
    post_note(api, world.organizer, passage, "Still here.", parent=gone["id"])
    api(member_b).delete(f"/api/v1/notes/{gone['id']}/")

    answered = api(world.organizer).get("/api/v1/notes/?page_size=500").json()["results"]

    notes = list(notes_for_api(world.organizer))
    declared = [drf.ModelSerializer.to_representation(NoteSerializer(), note) for note in notes]
    assert answered == declared
    assert len(answered) == 7
    kinds = {(note["deleted"], note["hidden"], note["highlight"], note["anchor_state"]) for note in answered}
    assert kinds >= {
        (True, False, False, "anchored"),
        (False, True, False, "anchored"),
        (False, False, True, "anchored"),
    }
    assert {(note["helpful_by_me"], bool(note["mentions"]), len(note["candidates"])) for note in answered} >= {
        (True, True, 0),
        (False, False, 1),
    }


NOTE_INPUTS = [
    {"passage": 5, "body": "A thought: *why*?", "visibility": "group"},
    {"passage": "5", "body": "x", "visibility": "private", "tags": [" #Land ", "land"], "parent": "7"},
    {"passage": 5, "highlight": True, "selector": {"start": 1, "end": 4, "exact": "abc"}},
    {"passage": 5, "body": "x", "selector": None, "parent": None, "question": None, "tags": [], "extra": 1},
    {"passage": 5, "body": ""},
    {"passage": 5, "body": "a\x00b"},
    {"passage": 5, "body": "a\ud800b"},
    {"passage": 5, "body": "a\x07b"},
    {"passage": 5, "body": 12},
    {"passage": 5, "visibility": None},
    {"passage": 5, "visibility": "everyone"},
    {"passage": True},
    {"passage": 5.5},
    {"passage": None},
    {},
    None,
    [],
    "text",
    {"passage": 5, "tags": ["a\nb", "  "]},
    {"passage": 5, "tags": "land"},
    {"passage": 5, "tags": ["x" * 61]},
    {"passage": 5, "selector": {"start": 1, "end": 2, "exact": ""}},
    {"passage": 5, "selector": {"start": "a"}},
    {"passage": 5, "selector": []},
    {"passage": 5, "highlight": "maybe"},
    {"passage": 5, "parent": "x", "question": [1]},
]
NOTE_CHANGES = [{}, {"body": "x"}, {"body": ""}, {"visibility": None}, {"tags": ["ok"]}, {"passage": "x"}, None, []]


def test_note_input_is_validated_as_a_new_serializer_would(db):
    """`validated_input` checks with fields built once per process; what it accepts and every error it gives
    are those of a new serializer's `is_valid`, whatever came before."""
    from rest_framework.exceptions import ValidationError as DRFValidationError

    from readings.api.serializers import NoteInputSerializer, NoteUpdateSerializer, validated_input

    def outcome(check):
        try:
            return "valid", check()
        except DRFValidationError as error:
            return "invalid", error.detail

    def by_is_valid(serializer_class, data, partial):
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    cases = [(NoteInputSerializer, data, False) for data in NOTE_INPUTS]
    cases += [(NoteUpdateSerializer, data, True) for data in NOTE_CHANGES]
    for serializer_class, data, partial in cases * 2:
        expected = outcome(lambda: by_is_valid(serializer_class, data, partial))  # noqa: B023
        assert outcome(lambda: validated_input(serializer_class, data, partial=partial)) == expected, data  # noqa: B023
    assert outcome(lambda: validated_input(NoteInputSerializer, None))[1] == {"non_field_errors": ["No data provided"]}


def test_a_note_is_written_as_saving_it_would_write_it(world, essay, reading, member_b):
    """The service INSERTs a note with SQL made once per process: the row holds what `save()` would have written,
    and the note it returns is that row (its id, its times, the thread's copies)."""
    passage = at(essay, 12)
    exact = "(who were hungry for land)"
    start = passage.body.index(exact)
    top = note_create(author=member_b, passage=passage, body="Top.", visibility="facilitators")
    written = note_create(
        author=world.member,
        passage=passage,
        body="**Why** @member_b?",
        selector={"start": start, "end": start + len(exact), "exact": exact},
        parent=top,
    )
    saved = Note(
        author=world.member,
        passage=passage,
        body=written.body,
        body_html=written.body_html,
        selector=written.selector,
        visibility=written.visibility,
        parent=top,
        root=top,
    )
    saved.save()

    def columns(note):
        row = {field.attname: getattr(note, field.attname) for field in Note._meta.concrete_fields}
        return row, {key: value for key, value in row.items() if key not in ("id", "created_at", "updated_at")}

    assert columns(Note.objects.get(pk=written.pk))[0] == columns(written)[0]
    assert columns(Note.objects.get(pk=saved.pk))[1] == columns(written)[1]
    assert written.thread_author_id == member_b.pk
    assert written.visibility == "facilitators"  # a reply takes its thread's audience
    assert written.selector is None  # and its parent's place
    assert not written._state.adding


def test_a_note_written_is_still_heard_by_whoever_listens_to_its_saving(world, essay, reading):
    from django.db.models.signals import post_save

    heard = []

    def listen(sender, instance, created, **kwargs):
        heard.append((instance.body, created))

    post_save.connect(listen, sender=Note)
    try:
        note = note_create(author=world.member, passage=at(essay, 12), body="Hm.", visibility="group")
    finally:
        post_save.disconnect(listen, sender=Note)

    assert heard == [("Hm.", True)]
    assert Note.objects.get(pk=note.pk).body == "Hm."
