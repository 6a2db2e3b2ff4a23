"""The one definition of who sees which note (`readings.selectors.notes_visible_to`), tested directly.

The endpoints and pages that use it are tested elsewhere; this pins the rule
itself, DESIGN.md's table, role by role, without going through a request.
"""

import pytest

from readings.enums import NoteVisibility
from readings.selectors import notes_visible_to
from readings.services.notes import note_create, note_set_hidden
from tests.factories import NoteFactory, TextFactory

ROLES = ("organizer", "facilitator", "member", "outsider")


@pytest.fixture
def notes(world):
    passage = TextFactory(group=world.group, passages=2).passages.get(position=1)
    by_member = {
        visibility: NoteFactory(author=world.member, passage=passage, visibility=visibility, body=visibility)
        for visibility in NoteVisibility.values
    }
    reply = note_create(author=world.organizer, passage=passage, parent=by_member["group"], body="reply")
    return {**by_member, "reply": reply}


def _seen(user, notes) -> set[str]:
    names = {note.pk: name for name, note in notes.items()}
    return {names[pk] for pk in notes_visible_to(user).values_list("pk", flat=True) if pk in names}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # DESIGN.md: group notes and their replies for every member; facilitator notes for facilitators and
        # organizers; a private note for its author alone; nothing for anyone outside the group.
        ("organizer", {"group", "facilitators", "reply"}),
        ("facilitator", {"group", "facilitators", "reply"}),
        ("member", {"group", "facilitators", "private", "reply"}),
        ("outsider", set()),
    ],
)
def test_each_role_sees_what_the_table_says(world, notes, role, expected):
    assert _seen(getattr(world, role), notes) == expected


def test_hiding_a_note_takes_its_replies_with_it_but_not_from_organizers_or_its_author(world, notes):
    note_set_hidden(note=notes["group"], hidden=True, by=world.organizer)

    assert {"group", "reply"} & _seen(world.facilitator, notes) == set()
    assert {"group", "reply"} <= _seen(world.organizer, notes)
    assert "group" in _seen(world.member, notes)  # its author still sees it, marked


def test_one_groups_membership_scopes_to_that_group(world, notes):
    elsewhere = NoteFactory(author=world.outsider, body="elsewhere")  # in a text of another group
    membership = world.member.memberships.get(group=world.group)

    mine = set(notes_visible_to(world.member, membership=membership).values_list("pk", flat=True))

    assert elsewhere.pk not in mine
    assert notes["group"].pk in mine


@pytest.fixture
def guarded(world):
    """A "post before you peek" session reading passage 1 of a text; another member's group note on it."""
    from readings.services.assignments import assignment_create
    from sessions_app.services.schedule import session_update
    from tests.factories import MembershipFactory

    text = TextFactory(group=world.group, passages=2)
    passage = text.passages.get(position=1)
    assignment_create(session=world.session, text=text, start_passage=passage, end_passage=passage)
    session_update(session=world.session, post_before_peek=True)
    other = MembershipFactory(group=world.group).user
    return passage, NoteFactory(author=other, passage=passage, visibility=NoteVisibility.GROUP, body="theirs")


def _sees(user, note) -> bool:
    return notes_visible_to(user).filter(pk=note.pk).exists()


def test_post_before_peek_keeps_a_members_eyes_off_others_notes_until_they_post(world, guarded):
    passage, theirs = guarded

    before = (_sees(world.member, theirs), _sees(world.facilitator, theirs), _sees(world.organizer, theirs))
    NoteFactory(author=world.member, passage=passage, visibility=NoteVisibility.PRIVATE, body="mine first")

    assert before == (False, True, True)  # only plain members wait; those who lead see everything
    assert _sees(world.member, theirs)


@pytest.mark.parametrize(("unlocks", "seen"), [(False, False), (True, True)])
def test_a_highlight_counts_as_posting_only_where_the_group_says_so(world, guarded, unlocks, seen):
    passage, theirs = guarded
    world.group.highlights_unlock_peek = unlocks
    world.group.save(update_fields=["highlights_unlock_peek"])
    selector = {"start": 0, "end": 7, "exact": "Passage", "prefix": "", "suffix": " 1"}

    NoteFactory(
        author=world.member,
        passage=passage,
        highlight=True,
        body="",
        body_html="",
        selector=selector,
        visibility=NoteVisibility.PRIVATE,
    )

    assert _sees(world.member, theirs) == seen
