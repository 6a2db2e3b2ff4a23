"""Data migrations of readings, run forward on rows written under the schema before them."""

import pytest

from readings.models import Note
from readings.services.importing import text_import

from ..migrating import migrate

BEFORE_THREADS = ("readings", "0003_passage_footnotes_text_language")


@pytest.mark.django_db(transaction=True)
def test_thread_migration_fills_roots_and_repairs_what_one_level_propagation_left(world):
    text = text_import(group=world.group, created_by=None, content="Title\n\nOne.\n\nTwo.")
    one, two = text.passages.get(position=2), text.passages.get(position=3)
    old = migrate(BEFORE_THREADS).get_model("readings", "Note")
    try:
        # Made private after a reply to a reply: the grandchild stayed `group`, on the passage the thread left.
        root = old.objects.create(author_id=world.member.pk, passage_id=two.pk, body="r", visibility="private")
        child = old.objects.create(
            author_id=world.member.pk, passage_id=two.pk, body="c", visibility="private", parent=root
        )
        old.objects.create(author_id=world.member.pk, passage_id=one.pk, body="g", visibility="group", parent=child)
        # A hidden group note with a reply, and a reply of its own hidden under it.
        hidden = old.objects.create(
            author_id=world.facilitator.pk, passage_id=one.pk, body="h", visibility="group", hidden=True
        )
        reply = old.objects.create(
            author_id=world.member.pk, passage_id=one.pk, body="hr", visibility="group", parent=hidden
        )
        old.objects.create(
            author_id=world.member.pk, passage_id=one.pk, body="n", visibility="group", parent=reply, hidden=True
        )
        old.objects.create(author_id=world.member.pk, passage_id=one.pk, body="p", visibility="group")
    finally:
        migrate(None)

    rows = {
        note.body: (note.root_id, note.visibility, note.passage_id, note.hidden, note.hidden_root_id)
        for note in Note.objects.all()
    }
    assert rows == {
        "r": (None, "private", two.pk, False, None),
        "c": (root.pk, "private", two.pk, False, None),
        "g": (root.pk, "private", two.pk, False, None),
        "h": (None, "group", one.pk, True, hidden.pk),
        "hr": (hidden.pk, "group", one.pk, False, hidden.pk),
        "n": (hidden.pk, "group", one.pk, True, hidden.pk),
        "p": (None, "group", one.pk, False, None),
    }
