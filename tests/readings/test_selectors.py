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
