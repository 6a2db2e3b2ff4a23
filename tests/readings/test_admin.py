from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from readings.models import Passage, Text
from sessions_app.models import User

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


@pytest.fixture
def admin_client_(client, world):
    User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    client.post("/admin/login/", {"username": "root", "password": "a long admin passphrase"})
    return client


def test_admin_imports_an_uploaded_text_through_the_service(admin_client_, world):
    response = admin_client_.post(
        "/admin/readings/text/add/",
        {
            "group": world.group.id,
            "file": SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes()),
            "format": "",
            "title": "",
            "author": "Study notes",
            "source": "",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )

    text = Text.objects.get()
    assert response.status_code == 302
    assert (text.title, text.author, text.created_by.username) == (
        "The October revolution and the bolsheviks",
        "Study notes",
        "root",
    )
    assert Passage.objects.filter(text=text, anchor="p-1", kind="heading").exists()
    assert admin_client_.get(f"/admin/readings/text/{text.pk}/change/").status_code == 200


def test_admin_shows_import_errors_on_the_file_field(admin_client_, world):
    response = admin_client_.post(
        "/admin/readings/text/add/",
        {
            "group": world.group.id,
            "file": SimpleUploadedFile("x.txt", b"\x00\x01\x02\x03binary\x00"),
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["file"][0].startswith("This file")
    assert not Text.objects.exists()


def test_admin_hides_a_note_with_its_replies_and_shows_it_again(admin_client_, world, api):
    from readings.models import Note
    from readings.services.notes import note_create

    text = Text.objects.create(group=world.group, title="T", original_format="txt")
    passage = Passage.objects.create(text=text, anchor="p-1", position=1, kind="paragraph", body="B", word_count=1)
    note = note_create(author=world.facilitator, passage=passage, body="Off topic.", visibility="group")
    reply = note_create(author=world.member, passage=passage, body="Indeed.", parent=note)

    def seen_by_member() -> set[int]:
        return {n["id"] for n in api(world.member).get("/api/v1/notes/").json()["results"]}

    hid = admin_client_.post(
        "/admin/readings/note/", {"action": "hide_notes", "_selected_action": [note.pk]}, follow=True
    )
    hidden = seen_by_member()
    admin_client_.post("/admin/readings/note/", {"action": "show_notes", "_selected_action": [note.pk]})

    assert "Hid 1 note(s); private notes are left alone." in hid.content.decode()
    assert hidden == set()
    assert Note.objects.get(pk=reply.pk).hidden_root_id is None
    assert seen_by_member() == {note.pk, reply.pk}
    assert admin_client_.get(f"/admin/readings/note/{note.pk}/change/").status_code == 200


def test_an_admin_edit_of_a_passage_changes_the_pack_version(admin_client_, world, api, reading):
    """The admin writes rows without the services; the versions of the group's packs rise all the same."""
    url = f"/api/v1/sessions/{world.session.id}/pack/"
    before = api(world.member).get(url)
    passage = reading.start_passage
    form = {
        "kind": passage.kind,
        "section": passage.section,
        "body": "An editor's correction.",
        "position": passage.position,
        "word_count": passage.word_count,
        "heading_level": passage.heading_level,
        "attribution": passage.attribution,
        "footnotes": "[]",
        "cited_works": "[]",
        "start_offset": passage.start_offset,
        "end_offset": passage.end_offset,
    }
    response = admin_client_.post(f"/admin/readings/passage/{passage.pk}/change/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors

    again = api(world.member).get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert again.status_code == 200
    assert again.json()["readings"][0]["passages"][0]["body"] == "An editor's correction."
