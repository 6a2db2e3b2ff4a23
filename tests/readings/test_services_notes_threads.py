"""Each note carries its thread's audience: the copies the visibility rule reads, and what it decides with them.

A reply's `visibility` is its root's, `thread_author` is the root's author, and
`hidden_author` the author of the topmost hidden note above it
(`readings/models.py`). Every write path keeps them in step, checked here
after each step by one SQL query; on PostgreSQL the database refuses a note
that disagrees (migration readings.0014). Then the privacy they decide:
a deep reply under a private root, and replies under a hidden root.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from portability.services.exporting import group_export
from portability.services.importing import group_import
from readings.models import Note
from readings.services.notes import note_create, note_delete, note_set_hidden, note_update

from .conftest import at

pytestmark = pytest.mark.django_db


def drifted() -> list[tuple]:
    """The notes whose copies disagree with their thread root or hidden root (none, ever)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT note.id, note.visibility, note.thread_author_id, note.hidden_author_id
            FROM readings_note note
            LEFT JOIN readings_note root ON root.id = note.root_id
            LEFT JOIN readings_note hider ON hider.id = note.hidden_root_id
            WHERE note.visibility <> COALESCE(root.visibility, note.visibility)
               OR note.thread_author_id <> COALESCE(root.author_id, note.author_id)
               OR (note.hidden_root_id IS NULL) <> (note.hidden_author_id IS NULL)
               OR note.hidden_author_id <> hider.author_id
            """
        )
        return cursor.fetchall()


def copies(note: Note) -> tuple:
    note.refresh_from_db()
    return note.visibility, note.thread_author_id, note.hidden_author_id


def test_every_write_path_keeps_each_notes_copies_of_its_thread(world, essay, member_b):
    passage = at(essay, 12)
    root = note_create(author=world.member, passage=passage, body="root", visibility="private")
    child = note_create(author=world.member, passage=passage, body="child", parent=root)
    grandchild = note_create(author=world.member, passage=passage, body="grandchild", parent=child)
    deep = note_create(author=world.member, passage=passage, body="deep", parent=grandchild, visibility="group")
    assert copies(deep) == ("private", world.member.pk, None)
    assert drifted() == []

    note_update(note=root, visibility="group")  # the whole thread moves, at every depth
    assert [copies(one)[0] for one in (child, grandchild, deep)] == ["group"] * 3
    assert drifted() == []

    # Others write in the thread: a reply by member B at depth 2 and one by the facilitator under it.
    theirs = note_create(author=member_b, passage=passage, body="theirs", parent=child)
    under = note_create(author=world.facilitator, passage=passage, body="under", parent=theirs)
    assert copies(under) == ("group", world.member.pk, None)
    assert drifted() == []

    note_set_hidden(note=child, hidden=True, by=world.organizer)
    assert [copies(one)[2] for one in (root, child, grandchild, deep, theirs, under)] == [None] + [world.member.pk] * 5
    note_set_hidden(note=root, hidden=True, by=world.organizer)  # a higher hidden note takes over
    note_set_hidden(note=theirs, hidden=True, by=world.organizer)
    assert copies(under)[2] == world.member.pk
    reply_while_hidden = note_create(author=world.organizer, passage=passage, body="while hidden", parent=theirs)
    assert copies(reply_while_hidden)[2] == world.member.pk
    assert drifted() == []

    note_set_hidden(note=root, hidden=False, by=world.organizer)
    note_set_hidden(note=child, hidden=False, by=world.organizer)
    # Only `theirs` stays hidden: what is under it is still out of view, for all but member B.
    assert [copies(one)[2] for one in (root, child, theirs, under, reply_while_hidden)] == [None, None] + [
        member_b.pk
    ] * 3
    assert drifted() == []

    note_delete(note=theirs)  # a placeholder: it has replies
    note_delete(note=under)
    note_delete(note=reply_while_hidden)  # the placeholder above goes too
    assert not Note.objects.filter(pk=theirs.pk).exists()
    assert drifted() == []

    # A thread only its author wrote in may change its audience again; hiding is undone by going private.
    own = note_create(author=member_b, passage=passage, body="own", visibility="group")
    own_reply = note_create(author=member_b, passage=passage, body="own reply", parent=own)
    note_set_hidden(note=own, hidden=True, by=world.organizer)
    note_update(note=own, visibility="private")
    assert copies(own_reply) == ("private", member_b.pk, None)
    assert drifted() == []


def test_an_imported_group_keeps_each_notes_copies_of_its_thread(world, essay, member_b):
    passage = at(essay, 12)
    root = note_create(author=world.member, passage=passage, body="root", visibility="group")
    reply = note_create(author=member_b, passage=passage, body="reply", parent=root)
    note_create(author=world.facilitator, passage=passage, body="deeper", parent=reply)
    note_set_hidden(note=reply, hidden=True, by=world.organizer)
    exported = group_export(group=world.group)

    imported = group_import(data=exported, slug="a-copy")

    deeper = Note.objects.get(passage__text__group=imported, body="deeper")
    assert (deeper.thread_author.username, deeper.hidden_author.username) == ("member", "member_b")
    assert drifted() == []


def test_an_import_refuses_a_reply_for_another_audience_than_its_thread(world, essay):
    from django.core.exceptions import ValidationError

    root = note_create(author=world.member, passage=at(essay, 12), body="root", visibility="private")
    note_create(author=world.member, passage=at(essay, 12), body="reply", parent=root)
    exported = group_export(group=world.group)
    next(row for row in exported["notes"] if row["body"] == "reply")["visibility"] = "group"

    with pytest.raises(ValidationError, match="audience of its thread"):
        group_import(data=exported, slug="a-copy")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database's own check is PostgreSQL's")
@pytest.mark.parametrize(
    "drift",
    [
        {"visibility": "group"},
        {"thread_author_id": "other"},
        {"hidden_author_id": "other"},
    ],
    ids=["a reply's audience", "a reply's thread author", "a hidden reply's hider"],
)
def test_the_database_refuses_a_copy_that_disagrees_with_its_thread(world, essay, member_b, drift):
    root = note_create(author=world.member, passage=at(essay, 12), body="root", visibility="facilitators")
    reply = note_create(author=world.facilitator, passage=at(essay, 12), body="reply", parent=root)
    note_set_hidden(note=root, hidden=True, by=world.organizer)
    fields = {name: member_b.pk if value == "other" else value for name, value in drift.items()}

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        with pytest.raises(IntegrityError), transaction.atomic():
            Note.objects.filter(pk=reply.pk).update(**fields)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- What the copies decide ---------------------------------------------------------------------


def _sees(client, api, user, world, word: str) -> dict[str, bool]:
    """Whether `user` finds `word` in search, in the session's pack (JSON) and on the reader page."""
    found = api(user).get("/api/v1/search/", {"q": word}).json()
    pack = api(user).get(f"/api/v1/sessions/{world.session.id}/pack/")
    assert pack.status_code == 200, pack.content
    client.force_login(user)
    page = client.get(reverse("session-read", args=[world.session.pk]))
    assert page.status_code == 200
    return {
        "search": found["count"] > 0,
        "pack": word in pack.content.decode(),
        "reader": word in page.content.decode(),
    }


NOWHERE = {"search": False, "pack": False, "reader": False}
EVERYWHERE = {"search": True, "pack": True, "reader": True}


def test_a_reply_at_depth_three_under_a_private_root_reaches_nobody_else(client, api, world, essay, reading, member_b):
    passage = at(essay, 12)
    root = note_create(author=member_b, passage=passage, body="Thinking aloud.", visibility="private")
    child = note_create(author=member_b, passage=passage, body="More.", parent=root)
    grandchild = note_create(author=member_b, passage=passage, body="Still more.", parent=child)
    note_create(author=member_b, passage=passage, body="The zebrafinch argument.", parent=grandchild)

    for user in (world.member, world.facilitator, world.organizer):
        assert _sees(client, api, user, world, "zebrafinch") == NOWHERE, user.username
    assert _sees(client, api, member_b, world, "zebrafinch") == EVERYWHERE

    note_update(note=root, visibility="group")
    for user in (world.member, world.facilitator, world.organizer):
        assert _sees(client, api, user, world, "zebrafinch") == EVERYWHERE, user.username

    note_update(note=root, visibility="private")
    for user in (world.member, world.facilitator, world.organizer):
        assert _sees(client, api, user, world, "zebrafinch") == NOWHERE, user.username
    assert _sees(client, api, member_b, world, "zebrafinch") == EVERYWHERE


def test_a_hidden_root_hides_its_replies_search_hits_from_others(api, world, essay, reading, member_b):
    passage = at(essay, 12)
    root = note_create(author=member_b, passage=passage, body="Off topic.", visibility="group")
    reply = note_create(author=world.member, passage=passage, body="A quokka reply.", parent=root)
    note_create(author=world.facilitator, passage=passage, body="A quokka reply to the reply.", parent=reply)

    def found(user) -> int:
        return api(user).get("/api/v1/search/", {"q": "quokka"}).json()["count"]

    assert [found(user) for user in (world.member, world.facilitator, member_b, world.organizer)] == [2, 2, 2, 2]

    note_set_hidden(note=root, hidden=True, by=world.organizer)

    # The replies' own authors are not the hidden note's: out of their view too. Its author and the organizers see.
    assert [found(user) for user in (world.member, world.facilitator, member_b, world.organizer)] == [0, 0, 2, 2]

    note_set_hidden(note=root, hidden=False, by=world.organizer)
    assert [found(user) for user in (world.member, world.facilitator, member_b, world.organizer)] == [2, 2, 2, 2]


BEFORE_COPIES = ("readings", "0013_note_mentions")


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_copies_at_any_depth_and_gives_a_drifted_reply_its_roots_audience(world):
    from readings.services.importing import text_import

    from ..migrating import migrate

    text = text_import(group=world.group, created_by=None, content="Title\n\nOne.\n\nTwo.")
    passage = text.passages.get(position=2)
    old = migrate(BEFORE_COPIES).get_model("readings", "Note")
    try:

        def write(author, body, visibility, parent=None, root=None, hidden_root=None, hidden=False):
            return old.objects.create(
                author_id=author.pk,
                passage_id=passage.pk,
                body=body,
                visibility=visibility,
                parent=parent,
                root=root,
                hidden=hidden,
                hidden_root=hidden_root,
            )

        root = write(world.member, "root", "group")
        child = write(world.facilitator, "child", "group", parent=root, root=root)
        hidden = write(world.organizer, "hidden", "group", parent=child, root=root)
        hidden.hidden, hidden.hidden_root = True, hidden
        hidden.save()
        write(world.facilitator, "deep", "group", parent=hidden, root=root, hidden_root=hidden)
        secret = write(world.member, "secret", "private")
        write(world.member, "drifted", "group", parent=secret, root=secret)  # as no service ever wrote it
    finally:
        migrate(None)

    rows = {
        note.body: (note.visibility, note.thread_author.username, note.hidden_author and note.hidden_author.username)
        for note in Note.objects.select_related("thread_author", "hidden_author")
    }
    assert rows == {
        "root": ("group", "member", None),
        "child": ("group", "member", None),
        "hidden": ("group", "member", "organizer"),
        "deep": ("group", "member", "organizer"),
        "secret": ("private", "member", None),
        "drifted": ("private", "member", None),
    }
    assert drifted() == []


def test_the_admin_does_not_change_a_written_notes_author(client, world, essay):
    from sessions_app.models import User

    note = note_create(author=world.member, passage=at(essay, 12), body="Mine.", visibility="group")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    form = client.get(f"/admin/readings/note/{note.pk}/change/").context["adminform"].form

    assert "author" not in form.fields
    assert "author" in client.get("/admin/readings/note/add/").context["adminform"].form.fields
