"""`manage.py export_group` / `import_group`: a group's whole content, moved between instances.

The round trip runs the commands as an administrator does, the import into a
new, empty database (the same migrations, no rows); the other tests call the
services and compare what people would see: the pack of a session.
"""

import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from portability.services.exporting import GROUP_FORMAT, GROUP_VERSION, group_export
from portability.services.importing import group_import
from readings.models import Note, Passage, Text
from readings.pack.builder import build_pack, pack_scope
from reminders.models import Reminder
from sessions_app.models import Membership, Session, StudyGroup, User

from ..populated import populate_group
from ..reminders.realparts import ROOT

# What differs between two exports of the same content: ids (and references to them) and times.
IDS = {
    "people": {"id": "person"},
    "series": {"id": "series"},
    "sessions": {"id": "session", "series": "series", "facilitators": "person"},
    "texts": {"id": "text", "created_by": "person"},
    "readings": {"id": "reading", "session": "session", "text": "text"},
    "questions": {"id": "question", "session": "session", "proposed_by": "person"},
    "notes": {
        "id": "note",
        "author": "person",
        "text": "text",
        "question": "question",
        "parent": "note",
        "root": "note",
        "hidden_by": "person",
        "hidden_root": "note",
        "helpful_by": "person",
    },
}
NESTED_IDS = {"person": "person", "marked_by": "person", "created_by": "person", "text": "text"}
PROGRESS_IDS = {
    "passages_read": NESTED_IDS,
    "reading_visits": {**NESTED_IDS, "session": "session", "last_text": "text"},
}
TIMES = {
    "exported_at",
    "created_at",
    "updated_at",
    "joined_at",
    "deleted_at",
    "read_at",
    "opened_at",
    "last_activity_at",
}


def comparable(document: dict) -> dict:
    """`document` with every id replaced by its order of appearance, and every time by a mark of whether it is set."""
    numbers: dict[str, dict] = {}

    def number(kind: str, value):
        if value is None:
            return None
        if isinstance(value, list):
            return [number(kind, item) for item in value]
        return numbers.setdefault(kind, {}).setdefault(value, f"{kind}-{len(numbers.get(kind, {})) + 1}")

    def clean(value, ids: dict[str, str]):
        if isinstance(value, dict):
            return {
                key: ("time" if item else None)
                if key in TIMES
                else number(ids[key], item)
                if key in ids
                else clean(item, NESTED_IDS)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [clean(item, ids) for item in value]
        return value

    for section in IDS:  # number ids where they are defined first, in the file's order
        for row in document[section]:
            number(IDS[section]["id"], row["id"])
    return {
        key: ("time" if value else None) if key in TIMES else clean(value, IDS.get(key) or PROGRESS_IDS.get(key, {}))
        for key, value in document.items()
    }


def manage(*args: str, database_url: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_export_import_into_an_empty_database_and_export_again_gives_the_same_file(scratch_databases, tmp_path):
    populated = populate_group()
    out = io.StringIO()
    call_command("export_group", populated.group.slug, stdout=out)
    first = out.getvalue()
    empty = scratch_databases.create("empty")
    scratch_databases.restore(scratch_databases.dump(tmp_path / "schema.dump", schema_only=True), empty)

    imported = manage("import_group", "-", database_url=scratch_databases.url(empty), stdin=first.encode())
    again = manage("export_group", populated.group.slug, database_url=scratch_databases.url(empty))

    assert imported.returncode == 0, imported.stderr.decode()[-3000:]
    assert "Imported “Thursday Circle”" in imported.stdout.decode()
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    before, after = json.loads(first), json.loads(again.stdout)
    assert (before["format"], before["version"]) == (GROUP_FORMAT, GROUP_VERSION) == (after["format"], after["version"])
    assert comparable(after) == comparable(before)
    # The times people see were kept, not reset to the time of the import.
    assert [note["created_at"] for note in after["notes"]] == [note["created_at"] for note in before["notes"]]
    # Everything is there: the file's sections are not empty, and private notes are in the admin's export.
    assert all(before[section] for section in [*IDS, *PROGRESS_IDS])
    assert "My own reminder." in {note["body"] for note in after["notes"]}


@pytest.mark.django_db
def test_an_imported_copy_gives_every_member_the_same_pack_with_new_ids():
    populated = populate_group()
    exported = group_export(group=populated.group)

    copy = group_import(data=exported, slug="thursday-copy")

    copy_session = Session.objects.get(group=copy, starts_at=populated.session.starts_at)
    assert copy.pk != populated.group.pk
    assert copy_session.pk != populated.session.pk
    assert not set(Note.objects.filter(passage__text__group=copy).values_list("pk", flat=True)) & {
        row["id"] for row in exported["notes"]
    }
    # People were matched by email: the same accounts are members of the copy, in the same roles.
    assert set(Membership.objects.filter(group=copy).values_list("user__username", "role")) == set(
        Membership.objects.filter(group=populated.group).values_list("user__username", "role")
    )
    for person in (populated.organizer, populated.facilitator, populated.member):
        original = pack_of(person, populated.session)
        copied = pack_of(person, copy_session)
        assert without_ids(copied) == without_ids(original)
    # The notes are on their words: quoted, moved after the revision, orphaned with their candidates.
    notes = {note.body: note for note in Note.objects.filter(passage__text__group=copy)}
    moved = notes["Is it *towering*? See [the source](https://example.org/source)."]
    assert moved.anchor_state == "moved"
    assert moved.passage.body[moved.selector["start"] : moved.selector["end"]] == "towering achievement"
    orphan = notes["On words that go."]
    assert orphan.anchor_state == "orphaned"
    assert orphan.passage.retired
    assert {candidate["passage"] for candidate in orphan.candidates} <= set(
        Passage.objects.filter(text__group=copy).values_list("pk", flat=True)
    )


def pack_of(user: User, session: Session) -> dict:
    membership = Membership.objects.get(group=session.group, user=user)
    return build_pack(
        pack_scope(user=user, session=Session.objects.select_related("group").get(pk=session.pk), membership=membership)
    )


def without_ids(pack):
    """The pack without ids, versions and addresses (which carry ids)."""
    if isinstance(pack, dict):
        return {
            key: without_ids(value)
            for key, value in pack.items()
            if key
            not in {"id", "version", "url", "passage", "parent", "root", "question", "group", "session", "generated_at"}
            and not key.endswith("_id")
            and not key.endswith("_url")
            and not (isinstance(value, list) and value and all(isinstance(item, int) for item in value))
        }
    if isinstance(pack, list):
        return [without_ids(item) for item in pack]
    return pack


@pytest.mark.django_db
def test_the_organizers_download_leaves_out_other_peoples_private_notes_and_addresses():
    populated = populate_group()

    download = group_export(group=populated.group, for_user=populated.organizer)
    complete = group_export(group=populated.group)

    bodies = {note["body"] for note in download["notes"]}
    assert "Organizer's own reminder." in bodies
    assert "My own reminder." not in bodies
    assert "My own reminder." in {note["body"] for note in complete["notes"]}
    assert download["complete"] is False
    assert complete["complete"] is True
    # Everything else the organizer sees is there: hidden threads, facilitators' notes, deleted placeholders.
    assert {"Off topic.", "Agreed, off topic.", "For facilitators.", "A reply that stays."} <= bodies
    # People as the group page shows them to organizers: members with their email, no usernames;
    # someone who left, by name only.
    others = {person["name"]: person for person in download["people"] if person["id"] != populated.organizer.pk}
    assert others["Cy"]["email"] == populated.member.email
    assert not any("username" in person for person in others.values())
    assert (others["Ed"]["role"], "email" in others["Ed"]) == (None, False)
    # Each member's reading progress, as facilitators see it; when the group shows them totals only, neither.
    assert {row["person"] for row in download["reading_visits"]} == {
        populated.member.pk,
        populated.other_member.pk,
        others["Ed"]["id"],
    }
    StudyGroup.objects.filter(pk=populated.group.pk).update(member_progress_visible=False)
    populated.group.refresh_from_db()
    totals_only = group_export(group=populated.group, for_user=populated.organizer)
    assert (totals_only["passages_read"], totals_only["reading_visits"]) == ([], [])
    assert group_export(group=populated.group)["reading_visits"]


@pytest.mark.django_db
def test_an_export_holds_nothing_of_another_group():
    ours = populate_group(name="Thursday Circle", prefix="a-")
    theirs = populate_group(name="Other Circle", prefix="b-")

    document = json.dumps(group_export(group=ours.group))

    exported = json.loads(document)
    assert {row["id"] for row in exported["texts"]} == {ours.essay.pk}
    assert {row["id"] for row in exported["sessions"]} == set(ours.group.sessions.values_list("pk", flat=True))
    assert {row["id"] for row in exported["notes"]} == set(
        Note.objects.filter(passage__text__group=ours.group).values_list("pk", flat=True)
    )
    assert "Other Circle" not in document
    assert "b-" not in {person["username"][:2] for person in exported["people"]}
    assert theirs.member.email not in document


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(version=GROUP_VERSION + 1), "version", "is not one this instance reads"),
        (lambda d: d.update(format="something else"), "format", "not a group export"),
        (lambda d: d["sessions"][1].update(title="Two\nlines"), "sessions[1].title", "line"),
        (lambda d: d["notes"][2].update(parent=10**9), "notes[2].parent", "not earlier in the file"),
        (lambda d: d["notes"][0].update(anchor="p-999999"), "notes[0].anchor", "not in the file"),
        (lambda d: d["texts"][0]["passages"][3].update(kind="poem"), "texts[0].passages[3].kind", "poem"),
        (lambda d: d["group"].update(summary_attendance="faces"), "group.summary_attendance", "faces"),
    ],
)
def test_a_bad_file_is_refused_naming_the_place_and_nothing_is_written(change, field, message):
    populated = populate_group()
    document = group_export(group=populated.group)
    change(document)
    counts = (StudyGroup.objects.count(), User.objects.count(), Text.objects.count(), Note.objects.count())

    with pytest.raises(ValidationError) as refused:
        group_import(data=document, slug="another")

    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])
    assert (StudyGroup.objects.count(), User.objects.count(), Text.objects.count(), Note.objects.count()) == counts


@pytest.mark.django_db
def test_a_group_that_shows_only_counts_of_who_came_still_does_after_the_move():
    populated = populate_group()
    StudyGroup.objects.filter(pk=populated.group.pk).update(summary_attendance="counts")
    exported = group_export(group=populated.group)

    copy = group_import(data=exported, slug="thursday-copy")

    assert exported["group"]["summary_attendance"] == "counts"
    assert copy.summary_attendance == "counts"
    # An older file, without the setting, reads as the default: names.
    del exported["group"]["summary_attendance"]
    assert group_import(data=exported, slug="thursday-older").summary_attendance == "names"


@pytest.mark.django_db
def test_import_group_refuses_a_slug_in_use_and_says_how_to_choose_another(tmp_path):
    populated = populate_group()
    path = tmp_path / "group.json"
    call_command("export_group", populated.group.slug, "--output", str(path))

    with pytest.raises(CommandError, match=r"Nothing was imported\. slug: A group with the slug “thursday-circle”"):
        call_command("import_group", str(path))
    out = io.StringIO()
    call_command("import_group", str(path), "--slug", "thursday-again", stdout=out)

    assert "(slug thursday-again)" in out.getvalue()


@pytest.mark.django_db
def test_an_imported_group_plans_upcoming_reminders_and_skips_those_the_old_instance_had_due():
    populated = populate_group()
    # Imported a day before the first session: its reading reminders (three days ahead) were due already.
    now = populated.session.starts_at - timedelta(days=1)

    copy = group_import(data=group_export(group=populated.group), slug="thursday-copy", now=now)

    first = Session.objects.get(group=copy, starts_at=populated.session.starts_at)
    rows = set(Reminder.objects.filter(session=first).values_list("recipient__username", "kind", "state"))
    assert ("cy", "reading", "skipped") in rows
    assert ("cy", "starting", "pending") in rows
    assert not {row for row in rows if row[0] == "di"}  # declined
    later = Reminder.objects.filter(session__group=copy, session__starts_at__gt=first.starts_at)
    assert set(later.values_list("state", flat=True)) == {"pending"}


# --- Over the API: the organizer's download and a member's own notes -------------------------------


@pytest.mark.django_db
def test_an_organizer_downloads_the_group_without_other_peoples_private_notes(api):
    populated = populate_group()

    response = api(populated.organizer).get(f"/api/v1/groups/{populated.group.pk}/export/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="thursday-circle-')
    document = response.json()
    assert (document["format"], document["complete"]) == (GROUP_FORMAT, False)
    bodies = {note["body"] for note in document["notes"]}
    assert "Organizer's own reminder." in bodies
    assert "My own reminder." not in bodies
    assert populated.member.username not in {person.get("username") for person in document["people"]}


@pytest.mark.django_db
def test_a_member_whose_username_is_not_ascii_downloads_a_file_named_after_it(api):
    from urllib.parse import quote

    populated = populate_group()
    populated.member.username = "zoë.ørsted"
    populated.member.save(update_fields=["username"])

    response = api(populated.member).get("/api/v1/me/export/")

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith("attachment; filename*=utf-8''" + quote("zoë.ørsted-notes-"))


@pytest.mark.django_db
def test_a_member_downloads_their_own_notes_with_the_words_they_are_on_and_nothing_else(api):
    ours = populate_group(prefix="a-")
    theirs = populate_group(name="Other Circle", prefix="b-")

    response = api(ours.member).get("/api/v1/me/export/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="a-cy-notes-')
    document = response.json()
    assert (document["format"], document["version"]) == ("studycircle.member-notes", 1)
    assert [group["name"] for group in document["groups"]] == ["Thursday Circle"]
    mine = set(Note.objects.filter(author=ours.member, deleted_at__isnull=True).values_list("body", flat=True))
    assert {note["body"] for note in document["notes"]} == mine
    assert "My own reminder." in mine  # private notes are the member's own, so they are in
    private = next(note for note in document["notes"] if note["body"] == "My own reminder.")
    assert (private["quote"], private["visibility"], private["highlight"]) == ("momentous event", "private", False)
    assert private["quote"] in private["passage"]
    highlights = [note for note in document["notes"] if note["highlight"]]
    assert highlights
    assert all(note["quote"] and note["quote"] in note["passage"] and not note["body"] for note in highlights)
    assert theirs.member.username not in response.content.decode()
    assert "Other Circle" not in response.content.decode()


# --- On the pages: where people find the downloads ---------------------------------------------------


def link_to(page: str, path: str) -> str | None:
    """The href on `page` that leads to `path` and asks the browser to save the file, if there is one."""
    for match in re.finditer(r"<a\b[^>]*>", page):
        tag = match.group(0)
        if f'href="{path}"' in tag and re.search(r"\sdownload(\s|>|=)", tag):
            return path
    return None


@pytest.mark.django_db
def test_organizers_find_the_groups_download_on_its_page_and_members_their_notes_on_preferences(client):
    populated = populate_group()
    group_page = f"/groups/{populated.group.pk}/"
    group_download = f"/api/v1/groups/{populated.group.pk}/export/"

    client.force_login(populated.organizer)
    organizer_sees = link_to(client.get(group_page).content.decode(), group_download)
    downloaded = client.get(organizer_sees)
    client.force_login(populated.member)
    member_sees = link_to(client.get(group_page).content.decode(), group_download)
    notes_link = link_to(client.get("/reminders/preferences/").content.decode(), "/api/v1/me/export/")
    notes = client.get(notes_link)

    assert downloaded.status_code == 200
    assert downloaded.json()["complete"] is False
    assert member_sees is None
    assert notes.status_code == 200
    assert "My own reminder." in {note["body"] for note in notes.json()["notes"]}
