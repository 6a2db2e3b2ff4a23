"""Every endpoint × every role × method, against DESIGN.md's table and status codes.

401 without credentials; 404 for what is not yours to see; 403 for what you
may see but not change. Rows are (method, path, body, expected codes for
anonymous, outsider, member, facilitator, organizer). `{...}` in a path or
body is filled from the world fixture.
"""

import json
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from readings.models import Note, Passage, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create, note_set_hidden, note_update
from readings.services.questions import question_create
from readings.services.text_imports import text_import_enqueue
from sessions_app.models import Invitation
from sessions_app.services.api_tokens import api_token_create
from sessions_app.services.groups import invitation_create
from sessions_app.services.schedule import series_create

from .conftest import ROLES
from .factories import PASSWORD, SessionFactory
from .readings.documents import ESSAY_PDF, MANIFESTO_EPUB

ENDPOINTS = [
    # Groups
    ("GET", "/api/v1/groups/", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/groups/", {"name": "New circle"}, (401, 201, 201, 201, 201)),
    ("GET", "/api/v1/groups/{group}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/groups/{group}/", {"description": "x"}, (401, 404, 403, 403, 200)),
    ("PATCH", "/api/v1/groups/{group}/", {"default_note_visibility": "private"}, (401, 404, 403, 403, 200)),
    ("PATCH", "/api/v1/groups/{group}/", {"highlights_unlock_peek": True}, (401, 404, 403, 403, 200)),
    ("PATCH", "/api/v1/groups/{group}/", {"summary_attendance": "counts"}, (401, 404, 403, 403, 200)),
    ("GET", "/api/v1/groups/{group}/members/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/groups/{group}/members/{member}/", {"role": "member"}, (401, 404, 403, 403, 200)),
    ("DELETE", "/api/v1/groups/{group}/members/{member}/", None, (401, 404, 403, 403, 204)),
    ("POST", "/api/v1/groups/{group}/leave/", None, (401, 404, 204, 204, 400)),
    ("GET", "/api/v1/groups/{group}/invitations/", None, (401, 404, 403, 403, 200)),
    ("POST", "/api/v1/groups/{group}/invitations/", {"role": "member"}, (401, 404, 403, 403, 201)),
    # The organizer's download of the group's content (portability).
    ("GET", "/api/v1/groups/{group}/export/", None, (401, 404, 403, 403, 200)),
    ("DELETE", "/api/v1/groups/{group}/invitations/{invitation}/", None, (401, 404, 403, 403, 200)),
    # Invitations by token: the link is the credential.
    ("GET", "/api/v1/invitations/{token}/", None, (200, 200, 200, 200, 200)),
    ("POST", "/api/v1/invitations/{token}/accept/", None, (401, 201, 200, 200, 200)),
    (
        "POST",
        "/api/v1/invitations/{token}/signup/",
        {"username": "new-{role}", "email": "n@example.org", "password": "a long enough passphrase"},
        (201, 201, 201, 201, 201),
    ),
    # Series
    ("GET", "/api/v1/series/", None, (401, 200, 200, 200, 200)),
    (
        "POST",
        "/api/v1/series/",
        {
            "group": "{group}",
            "title": "S",
            "timezone": "UTC",
            "first_starts_at": "2030-01-01T18:00:00",
            "rrule": "FREQ=WEEKLY;COUNT=2",
        },
        (401, 400, 403, 403, 201),
    ),
    ("GET", "/api/v1/series/{series}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/series/{series}/", {"location": "Here"}, (401, 404, 403, 403, 200)),
    # Sessions
    ("GET", "/api/v1/sessions/", None, (401, 200, 200, 200, 200)),
    (
        "POST",
        "/api/v1/sessions/",
        {"group": "{group}", "title": "T", "starts_at": "2030-01-01T18:00:00Z", "ends_at": "2030-01-01T19:00:00Z"},
        (401, 400, 403, 403, 201),
    ),
    ("GET", "/api/v1/sessions/{session}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/sessions/{session}/", {"location": "Room 9"}, (401, 404, 403, 200, 200)),
    ("POST", "/api/v1/sessions/{session}/cancel/", None, (401, 404, 403, 200, 200)),
    ("PUT", "/api/v1/sessions/{session}/rsvp/", {"status": "going"}, (401, 404, 200, 200, 200)),
    ("DELETE", "/api/v1/sessions/{session}/rsvp/", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/sessions/{session}/attendance/", None, (401, 404, 403, 200, 200)),
    ("PUT", "/api/v1/sessions/{session}/attendance/", {"present": []}, (401, 404, 403, 200, 200)),
    # Texts
    ("GET", "/api/v1/texts/", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/texts/", {"group": "{group}", "content": "T\n\nBody."}, (401, 400, 403, 201, 201)),
    ("GET", "/api/v1/texts/{text}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/texts/{text}/", {"author": "A. Writer"}, (401, 404, 403, 200, 200)),
    ("GET", "/api/v1/texts/{text}/passages/", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/texts/{text}/revisions/", None, (401, 404, 200, 200, 200)),
    ("POST", "/api/v1/texts/{text}/revisions/", {"content": "T\n\nOne.\n\nNew."}, (401, 404, 403, 201, 201)),
    # An import run by a worker: its uploader (the organizer) and whoever may import into the group.
    ("GET", "/api/v1/texts/imports/{import}/", None, (401, 404, 404, 200, 200)),
    # Reading assignments
    ("GET", "/api/v1/sessions/{session}/readings/", None, (401, 404, 200, 200, 200)),
    (
        "POST",
        "/api/v1/sessions/{session}/readings/",
        {"text": "{text}", "start_passage": "{p1}", "end_passage": "{p2}"},
        (401, 404, 403, 201, 201),
    ),
    ("GET", "/api/v1/sessions/{session}/readings/{reading}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/sessions/{session}/readings/{reading}/", {"required": False}, (401, 404, 403, 200, 200)),
    ("DELETE", "/api/v1/sessions/{session}/readings/{reading}/", None, (401, 404, 403, 204, 204)),
    # Questions
    ("GET", "/api/v1/sessions/{session}/questions/", None, (401, 404, 200, 200, 200)),
    ("POST", "/api/v1/sessions/{session}/questions/", {"prompt": "Why?"}, (401, 404, 201, 201, 201)),
    ("GET", "/api/v1/sessions/{session}/questions/{question}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/sessions/{session}/questions/{question}/", {"minutes": 5}, (401, 404, 403, 200, 200)),
    ("DELETE", "/api/v1/sessions/{session}/questions/{question}/", None, (401, 404, 403, 204, 204)),
    ("POST", "/api/v1/sessions/{session}/questions/{proposed}/accept/", None, (401, 404, 403, 200, 200)),
    ("POST", "/api/v1/sessions/{session}/questions/{proposed}/reject/", None, (401, 404, 403, 200, 200)),
    (
        "POST",
        "/api/v1/sessions/{session}/questions/reorder/",
        {"order": "{question_ids}"},
        (401, 404, 403, 200, 200),
    ),
    ("GET", "/api/v1/sessions/{session}/discussion/", None, (401, 404, 403, 200, 200)),
    # The after-session summary: every member of the group, each seeing what they may.
    ("GET", "/api/v1/sessions/{session}/summary/", None, (401, 404, 200, 200, 200)),
    # Notes, written by the member: each visibility
    ("GET", "/api/v1/notes/", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/notes/", {"passage": "{p1}", "body": "Mine."}, (401, 400, 201, 201, 201)),
    ("GET", "/api/v1/notes/{private_note}/", None, (401, 404, 200, 404, 404)),
    ("GET", "/api/v1/notes/{facilitators_note}/", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/notes/{group_note}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/notes/{group_note}/", {"body": "Edited."}, (401, 404, 200, 403, 403)),
    ("PATCH", "/api/v1/notes/{private_note}/", {"body": "Edited."}, (401, 404, 200, 404, 404)),
    ("DELETE", "/api/v1/notes/{group_note}/", None, (401, 404, 204, 403, 403)),
    ("DELETE", "/api/v1/notes/{private_note}/", None, (401, 404, 204, 404, 404)),
    ("POST", "/api/v1/notes/{group_note}/hide/", {"hidden": True}, (401, 404, 403, 403, 200)),
    ("POST", "/api/v1/notes/{private_note}/hide/", {"hidden": True}, (401, 404, 403, 404, 404)),
    (
        "POST",
        "/api/v1/notes/",
        {"passage": "{p1}", "body": "A reply.", "parent": "{private_note}"},
        (401, 400, 201, 400, 400),
    ),
    # Reading progress: everyone in the group reads and records their own; facilitators see the group's.
    ("GET", "/api/v1/sessions/{session}/progress/", None, (401, 404, 200, 200, 200)),
    (
        "POST",
        "/api/v1/sessions/{session}/progress/",
        {"passages": [], "last_passage": "{p1}"},
        (401, 404, 200, 200, 200),
    ),
    # Search: everyone signed in searches what they may read (an outsider finds their own groups' things).
    ("GET", "/api/v1/search/?q=one", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/search/?q=one&session={session}", None, (401, 400, 200, 200, 200)),
    # Highlights: words marked, no body.
    (
        "POST",
        "/api/v1/notes/",
        {"passage": "{p1}", "highlight": True, "selector": {"start": 0, "end": 3, "exact": "One"}},
        (401, 400, 201, 201, 201),
    ),
    # Helpful marks: on a note one may see, not one's own (the member wrote these), never a private one.
    ("POST", "/api/v1/notes/{group_note}/helpful/", None, (401, 404, 400, 200, 200)),
    ("DELETE", "/api/v1/notes/{group_note}/helpful/", None, (401, 404, 200, 200, 200)),
    ("POST", "/api/v1/notes/{facilitators_note}/helpful/", None, (401, 404, 400, 200, 200)),
    ("POST", "/api/v1/notes/{private_note}/helpful/", None, (401, 404, 400, 404, 404)),
    ("DELETE", "/api/v1/notes/{private_note}/helpful/", None, (401, 404, 200, 404, 404)),
    # The live reader's poll
    ("GET", "/api/v1/sessions/{session}/notes/live/", None, (401, 404, 200, 200, 200)),
    # Session pack and calendars
    ("GET", "/api/v1/sessions/{session}/pack/", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/sessions/{session}/pack/?format=md", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/sessions/{session}/pack/?format=html", None, (401, 404, 200, 200, 200)),
    # PDF and EPUB: a worker renders them; the first answer is "being prepared".
    ("GET", "/api/v1/sessions/{session}/pack/?format=pdf", None, (401, 404, 202, 202, 202)),
    ("GET", "/api/v1/sessions/{session}/pack/?format=epub", None, (401, 404, 202, 202, 202)),
    ("GET", "/api/v1/sessions/{session}/calendar.ics", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/me/export/", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/me/calendar-feed/", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/me/calendar-feed/", None, (401, 200, 200, 200, 200)),
    # Me
    ("GET", "/api/v1/me/", None, (401, 200, 200, 200, 200)),
    ("PATCH", "/api/v1/me/", {"timezone": "Europe/Paris"}, (401, 200, 200, 200, 200)),
    # Notifications: each person's own; ids of someone else's change nothing (and say nothing).
    ("GET", "/api/v1/me/notifications/", None, (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/me/notifications/?unread=1", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/me/notifications/read/", {"all": True}, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/me/notifications/read/", {"ids": [1, 2]}, (401, 200, 200, 200, 200)),
    ("DELETE", "/api/v1/auth/token/", None, (401, 204, 204, 204, 204)),
    # Credentials in the body: anyone may exchange their own for a token.
    ("POST", "/api/v1/auth/token/", {"username": "{role}", "password": PASSWORD}, (400, 200, 200, 200, 200)),
    # API tokens: each person's own; another's is a 404.
    ("GET", "/api/v1/me/tokens/", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/me/tokens/", {"name": "Laptop"}, (401, 201, 201, 201, 201)),
    ("DELETE", "/api/v1/me/tokens/{member_token}/", None, (401, 404, 204, 404, 404)),
    # The contract and its documentation: public, like any API's reference (they hold nobody's data).
    ("GET", "/api/v1/schema/", None, (200, 200, 200, 200, 200)),
    ("GET", "/api/v1/docs/", None, (200, 200, 200, 200, 200)),
    ("POST", "/api/v1/schema/", None, (405, 405, 405, 405, 405)),
    # Health: public, for probes; it tells the state of the parts and nothing about anyone's data.
    ("GET", "/api/v1/health/", None, (200, 200, 200, 200, 200)),
    ("POST", "/api/v1/health/", None, (405, 405, 405, 405, 405)),
]


# Uploads (multipart): rows are (method, path, fields with a `file`, expected codes).
UPLOADS = [
    ("POST", "/api/v1/texts/inspect/", {"group": "{group}", "file": MANIFESTO_EPUB}, (401, 400, 403, 200, 200)),
    (
        "POST",
        "/api/v1/texts/",
        {"group": "{group}", "file": MANIFESTO_EPUB, "chapters": "chapter-1"},
        (401, 400, 403, 201, 201),
    ),
    ("POST", "/api/v1/texts/", {"group": "{group}", "file": ESSAY_PDF}, (401, 400, 403, 201, 201)),
    ("POST", "/api/v1/texts/{text}/revisions/", {"file": MANIFESTO_EPUB}, (401, 404, 403, 201, 201)),
]


def _fill(value, names: dict):
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in names:
            return names[value[1:-1]]
        return value.format(**names)
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.fixture
def names(world) -> dict:
    series = series_create(
        group=world.group,
        title="Course",
        timezone="UTC",
        first_starts_at=datetime(2030, 1, 1, 18, 0),
        rrule="FREQ=WEEKLY;COUNT=2",
    )
    invitation = invitation_create(group=world.group, created_by=world.organizer, max_uses=10)
    text = text_import(group=world.group, created_by=world.organizer, content="T\n\nOne.\n\nTwo.")
    queued = text_import_enqueue(group=world.group, created_by=world.organizer, data=b"T\n\nOne.", filename="t.txt")
    p1, p2 = text.passages.get(position=2), text.passages.get(position=3)
    reading = assignment_create(session=world.session, text=text, start_passage=p1, end_passage=p2)
    question = question_create(session=world.session, author=world.organizer, prompt="Why?")
    proposed = question_create(session=world.session, author=world.member, prompt="And?", propose=True)
    notes = {
        f"{visibility}_note": note_create(author=world.member, passage=p1, body=visibility, visibility=visibility).pk
        for visibility in ("private", "group", "facilitators")
    }
    return {
        **notes,
        "text": text.id,
        "p1": p1.id,
        "p2": p2.id,
        "reading": reading.id,
        "question": question.id,
        "proposed": proposed.id,
        "question_ids": [question.id, proposed.id],
        "group": world.group.id,
        "member": world.member.id,
        "session": world.session.id,
        "series": series.id,
        "invitation": invitation.id,
        "token": invitation.token,
        "member_token": api_token_create(user=world.member, name="Member's laptop")[0].id,
        "import": queued.id,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), ENDPOINTS, ids=[f"{row[0]} {row[1]}" for row in ENDPOINTS]
)
def test_authorization_matrix(world, api, names, role, method, path, body, expected):
    names = {**names, "role": role}
    client = api(world.user(role))

    data = "" if body is None else json.dumps(_fill(body, names))
    response = client.generic(method, _fill(path, names), data=data, content_type="application/json")

    assert response.status_code == expected[ROLES.index(role)], response.content[:300]
    if response.status_code == 404:
        assert Invitation.objects.filter(group=world.group).count() == 1  # nothing was written


def test_facilitator_not_listed_on_a_session_cannot_edit_it(world, api):
    other = SessionFactory(group=world.group)

    response = api(world.facilitator).patch(f"/api/v1/sessions/{other.id}/", {"title": "Mine now"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only organizers and this session's facilitators can edit it."


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "fields", "expected"),
    UPLOADS,
    ids=[f"{row[0]} {row[1]} {row[2]['file'].name}" for row in UPLOADS],
)
def test_authorization_matrix_for_uploads(world, api, names, role, method, path, fields, expected):
    names = {**names, "role": role}
    client = api(world.user(role))
    body = {
        key: SimpleUploadedFile(value.name, value.read_bytes()) if key == "file" else _fill(value, names)
        for key, value in fields.items()
    }

    response = client.generic(
        method, _fill(path, names), data=encode_multipart(BOUNDARY, body), content_type=MULTIPART_CONTENT
    )

    assert response.status_code == expected[ROLES.index(role)], response.content[:300]
    if response.status_code != 201:
        assert Text.objects.filter(group=world.group).count() == 1  # only the fixture's text: nothing was written


# --- Threads: deep replies and hidden threads, in every place a note can be read -------------------

# (case, note, who sees it among member, facilitator, organizer). Anonymous gets 401, the outsider 404.
THREAD_CASES = [
    # The member's group thread, replied to by themself twice, then made private.
    ("private thread", "root", (True, False, False)),
    ("private thread", "grandchild", (True, False, False)),
    # The facilitator's group thread, replied to by themself twice, then narrowed to facilitators.
    ("facilitators thread", "child", (False, True, True)),
    ("facilitators thread", "grandchild", (False, True, True)),
    # The member asks the facilitators; the facilitator answers and the organizer adds to the answer.
    ("member's facilitators thread", "grandchild", (True, True, True)),
    # The facilitator's group note, the member's reply, the organizer's reply to that; the note is hidden.
    ("hidden thread", "root", (False, True, True)),
    ("hidden thread", "child", (False, True, True)),
    ("hidden thread", "grandchild", (False, True, True)),
    # The member's group note stays; the facilitator's reply to it is hidden, and the member's answer to that.
    ("hidden reply", "root", (True, True, True)),
    ("hidden reply", "child", (False, True, True)),
    ("hidden reply", "grandchild", (False, True, True)),
]


@pytest.fixture
def threads(world, names) -> dict[str, dict[str, int]]:
    passage = Passage.objects.get(pk=names["p1"])

    def thread(root_author, child_author, grandchild_author, visibility="group") -> dict[str, Note]:
        root = note_create(author=root_author, passage=passage, body="root", visibility=visibility)
        child = note_create(author=child_author, passage=passage, body="child", parent=root)
        grandchild = note_create(author=grandchild_author, passage=passage, body="grandchild", parent=child)
        return {"root": root, "child": child, "grandchild": grandchild}

    made_private = thread(world.member, world.member, world.member)
    note_update(note=made_private["root"], visibility="private")
    narrowed = thread(world.facilitator, world.facilitator, world.facilitator)
    note_update(note=narrowed["root"], visibility="facilitators")
    asked = thread(world.member, world.facilitator, world.organizer, visibility="facilitators")
    hidden = thread(world.facilitator, world.member, world.organizer)
    note_set_hidden(note=hidden["root"], hidden=True, by=world.organizer)
    hidden_reply = thread(world.member, world.facilitator, world.member)
    note_set_hidden(note=hidden_reply["child"], hidden=True, by=world.organizer)
    cases = {
        "private thread": made_private,
        "facilitators thread": narrowed,
        "member's facilitators thread": asked,
        "hidden thread": hidden,
        "hidden reply": hidden_reply,
    }
    return {case: {place: note.pk for place, note in notes.items()} for case, notes in cases.items()}


def _pack_notes(pack: dict) -> tuple[set[int], set[int]]:
    """(every note id in the pack, the ids shown as threads of their own)."""
    every, top = set(), set()

    def walk(notes, nested):
        for note in notes:
            every.add(note["id"])
            if not nested:
                top.add(note["id"])
            walk(note["replies"], True)

    for reading in pack["readings"]:
        for passage in reading["passages"]:
            walk(passage["notes"], False)
        walk(reading["orphaned_notes"], False)
    return every, top


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("case", "place", "seen_by"), THREAD_CASES, ids=[f"{c[0]}: {c[1]}" for c in THREAD_CASES])
def test_thread_privacy_matrix(world, api, names, threads, role, case, place, seen_by):
    client = api(world.user(role))
    note_id = threads[case][place]
    members = ("member", "facilitator", "organizer")
    sees = role in members and seen_by[members.index(role)]

    detail = client.get(f"/api/v1/notes/{note_id}/")
    listed = client.get("/api/v1/notes/?page_size=500")
    pack = client.get(f"/api/v1/sessions/{names['session']}/pack/")

    if role == "anonymous":
        assert (detail.status_code, listed.status_code, pack.status_code) == (401, 401, 401)
        return
    assert detail.status_code == (200 if sees else 404)
    assert (note_id in {note["id"] for note in listed.json()["results"]}) == sees
    if role == "outsider":
        assert pack.status_code == 404
        return
    in_pack, top_level = _pack_notes(pack.json())
    assert (note_id in in_pack) == sees
    assert top_level.isdisjoint(set(threads[case].values()) - {threads[case]["root"]})
