"""Highlights, the default audience, helpful marks and the live reader's poll, through the API."""

import pytest

from readings.models import Note, NoteHelpful
from sessions_app.models import Membership, Session

from ..factories import GroupFactory, MembershipFactory
from .conftest import at, pack_response

pytestmark = pytest.mark.django_db

WORDS = "(who were hungry for land)"


def selector_of(passage, words: str | None = None) -> dict:
    """The given words of the passage; else the hungry peasants of passage 12, or any passage's first words."""
    words = words or (WORDS if WORDS in passage.body else passage.body[:12])
    start = passage.body.index(words)
    return {"start": start, "end": start + len(words), "exact": words}


def write(api, user, passage, body="A note.", **fields):
    return api(user).post("/api/v1/notes/", {"passage": passage.id, "body": body, **fields}, format="json")


def highlight(api, user, passage, **fields):
    payload = {"passage": passage.id, "highlight": True, "selector": selector_of(passage), **fields}
    return api(user).post("/api/v1/notes/", payload, format="json")


def seen_ids(api, user, query: str = "") -> list[int]:
    response = api(user).get(f"/api/v1/notes/?page_size=500&{query}")
    assert response.status_code == 200
    return [note["id"] for note in response.json()["results"]]


# --- Highlights ----------------------------------------------------------------------------------


def test_highlight_is_a_private_bodiless_note_on_the_selected_words(world, api, essay, reading, member_b):
    passage = at(essay, 12)

    response = highlight(api, world.member, passage)

    assert response.status_code == 201
    note = response.json()
    assert (note["highlight"], note["body"], note["body_html"], note["visibility"]) == (True, "", "", "private")
    assert note["selector"]["exact"] == WORDS
    assert note["helpful_count"] is None
    assert note["id"] in seen_ids(api, world.member)
    assert note["id"] not in seen_ids(api, member_b)
    assert note["id"] not in seen_ids(api, world.organizer)


def test_highlight_may_be_shared_with_the_group(world, api, essay, reading, member_b):
    note = highlight(api, world.member, at(essay, 12), visibility="group").json()

    assert note["visibility"] == "group"
    assert seen_ids(api, member_b, "highlight=true") == [note["id"]]
    assert seen_ids(api, member_b, "highlight=false") == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"body": "Words."},
            "body",
            "A highlight has no words of its own: leave the body empty, or write a note.",
        ),
        (
            {"selector": None},
            "selector",
            "A highlight marks words: give the selector of the words to highlight.",
        ),
        ({"highlight": "perhaps"}, "highlight", "Must be a valid boolean."),
    ],
)
def test_bad_highlights_are_refused_naming_the_field(world, api, essay, reading, fields, field, message):
    response = highlight(api, world.member, at(essay, 12), **fields)

    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert Note.objects.count() == 0


def test_highlight_is_not_a_reply_and_takes_none(world, api, essay, reading, member_b):
    passage = at(essay, 12)
    note = write(api, member_b, passage, visibility="group").json()
    marked = highlight(api, world.member, passage, visibility="group").json()

    as_reply = highlight(api, world.member, passage, parent=note["id"])
    reply_to_it = write(api, member_b, passage, "Why these words?", parent=marked["id"])

    assert (as_reply.status_code, as_reply.json()["errors"]) == (400, {"parent": ["A reply cannot be a highlight."]})
    assert (reply_to_it.status_code, reply_to_it.json()["errors"]) == (
        400,
        {"parent": ["A highlight takes no replies."]},
    )
    assert Note.objects.count() == 2


def test_giving_a_highlight_words_makes_it_a_note(world, api, essay, reading):
    marked = highlight(api, world.member, at(essay, 12)).json()

    response = api(world.member).patch(f"/api/v1/notes/{marked['id']}/", {"body": "Land!"}, format="json")

    assert response.status_code == 200
    assert (response.json()["highlight"], response.json()["body_html"]) == (False, "<p>Land!</p>")


def _peek_session(world):
    Session.objects.filter(pk=world.session.pk).update(post_before_peek=True)


def test_highlight_does_not_unlock_post_before_you_peek_by_default(world, api, essay, reading, member_b):
    _peek_session(world)
    passage = at(essay, 12)
    theirs = write(api, member_b, passage, "B's view.", visibility="group").json()

    highlight(api, world.member, passage)
    after_highlight = seen_ids(api, world.member, f"passage={passage.id}")
    write(api, world.member, passage, "My view.", visibility="private")
    after_note = seen_ids(api, world.member, f"passage={passage.id}")

    assert theirs["id"] not in after_highlight
    assert theirs["id"] in after_note


def test_group_may_let_highlights_unlock_post_before_you_peek(world, api, essay, reading, member_b):
    _peek_session(world)
    passage = at(essay, 12)
    theirs = write(api, member_b, passage, "B's view.", visibility="group").json()
    changed = api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/", {"highlights_unlock_peek": True}, format="json"
    )

    highlight(api, world.member, passage)

    assert (changed.status_code, changed.json()["highlights_unlock_peek"]) == (200, True)
    assert theirs["id"] in seen_ids(api, world.member, f"passage={passage.id}")
    assert theirs["id"] not in seen_ids(api, world.member, f"passage={at(essay, 13).id}")


# --- The default audience -------------------------------------------------------------------------


def test_new_note_is_for_the_group_by_default(world, api, essay, reading):
    response = write(api, world.member, at(essay, 12))

    assert response.json()["visibility"] == "group"
    assert api(world.member).get(f"/api/v1/groups/{world.group.id}/").json()["default_note_visibility"] == "group"


def test_organizer_sets_the_groups_default_audience(world, api, essay, reading):
    changed = api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/", {"default_note_visibility": "private"}, format="json"
    )

    response = write(api, world.member, at(essay, 12))

    assert changed.json()["default_note_visibility"] == "private"
    assert response.json()["visibility"] == "private"


def test_bad_default_audience_is_refused_naming_the_field(world, api):
    response = api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/", {"default_note_visibility": "everyone"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["default_note_visibility"]
    world.group.refresh_from_db()
    assert world.group.default_note_visibility == "group"


def test_last_audience_chosen_in_a_group_is_the_next_default_there(world, api, essay, reading):
    other = GroupFactory()
    MembershipFactory(group=other, user=world.member)

    write(api, world.member, at(essay, 12), visibility="facilitators")
    highlight(api, world.member, at(essay, 13))  # a highlight is private, and changes no default
    after = write(api, world.member, at(essay, 14))

    assert after.json()["visibility"] == "facilitators"
    assert Membership.objects.get(user=world.member, group=world.group).note_visibility == "facilitators"
    assert Membership.objects.get(user=world.member, group=other).default_note_visibility == "group"


# --- Helpful marks -----------------------------------------------------------------------------------


def mark(api, user, note_id, method="post"):
    return getattr(api(user), method)(f"/api/v1/notes/{note_id}/helpful/")


def test_helpful_mark_counts_once_per_person_and_can_be_undone(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), visibility="group").json()

    first = mark(api, member_b, note["id"])
    again = mark(api, member_b, note["id"])
    other = mark(api, world.facilitator, note["id"])
    as_author = api(world.member).get(f"/api/v1/notes/{note['id']}/").json()
    as_b = api(member_b).get(f"/api/v1/notes/{note['id']}/").json()
    undone = mark(api, member_b, note["id"], "delete")
    undone_again = mark(api, member_b, note["id"], "delete")

    assert first.json() == {"note": note["id"], "helpful_count": 1, "helpful_by_me": True}
    assert again.json() == {"note": note["id"], "helpful_count": 1, "helpful_by_me": True}
    assert other.json()["helpful_count"] == 2
    assert (as_author["helpful_count"], as_author["helpful_by_me"]) == (2, False)
    assert (as_b["helpful_count"], as_b["helpful_by_me"]) == (2, True)
    assert undone.json() == {"note": note["id"], "helpful_count": 1, "helpful_by_me": False}
    assert undone_again.json()["helpful_count"] == 1
    assert NoteHelpful.objects.filter(note_id=note["id"]).count() == 1


def test_nobody_marks_a_note_they_cannot_see(world, api, essay, reading, member_b):
    private = write(api, world.member, at(essay, 12), visibility="private").json()
    for_facilitators = write(api, world.facilitator, at(essay, 12), visibility="facilitators").json()

    assert mark(api, member_b, private["id"]).status_code == 404
    assert mark(api, world.organizer, private["id"]).status_code == 404
    assert mark(api, member_b, for_facilitators["id"]).status_code == 404
    assert mark(api, world.outsider, for_facilitators["id"]).status_code == 404
    assert NoteHelpful.objects.count() == 0


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("own private", "A private note is for its author alone; it has no helpful marks."),
        ("own group", "Mark others' notes as helpful; your own is counted by them."),
        ("group highlight", "A highlight has no words to find helpful."),
    ],
)
def test_notes_that_take_no_marks_are_refused_naming_the_note(world, api, essay, reading, member_b, case, message):
    passage = at(essay, 12)
    if case == "own private":
        note_id, who = write(api, world.member, passage, visibility="private").json()["id"], world.member
    elif case == "own group":
        note_id, who = write(api, world.member, passage, visibility="group").json()["id"], world.member
    else:
        note_id, who = highlight(api, world.member, passage, visibility="group").json()["id"], member_b

    response = mark(api, who, note_id)

    assert (response.status_code, response.json()["errors"]) == (400, {"note": [message]})
    assert NoteHelpful.objects.count() == 0


def test_private_note_shows_no_count_even_after_marks(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), visibility="group").json()
    mark(api, member_b, note["id"])

    api(world.member).patch(f"/api/v1/notes/{note['id']}/", {"visibility": "private"}, format="json")
    mine = api(world.member).get(f"/api/v1/notes/{note['id']}/").json()
    pack = api(world.member).get(f"/api/v1/sessions/{world.session.id}/pack/").json()

    assert mine["helpful_count"] is None
    [pack_note] = [n for p in pack["readings"][0]["passages"] for n in p["notes"]]
    assert (pack_note["id"], pack_note["helpful_count"]) == (note["id"], None)
    assert mark(api, member_b, note["id"]).status_code == 404


def test_helpful_counts_are_in_the_pack_and_change_its_version(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), visibility="group").json()
    url = f"/api/v1/sessions/{world.session.id}/pack/"
    before = api(member_b).get(url)

    mark(api, world.facilitator, note["id"])
    unchanged = api(member_b).get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    after = api(member_b).get(url)

    assert unchanged.status_code == 200
    [pack_note] = [n for p in after.json()["readings"][0]["passages"] for n in p["notes"]]
    assert pack_note["helpful_count"] == 1
    assert after["ETag"] != before["ETag"]


def test_notes_sort_by_helpful_then_by_time(world, api, essay, reading, member_b):
    first, second, third = (
        write(api, world.member, at(essay, 12), f"Note {n}", visibility="group").json()["id"] for n in range(3)
    )
    for who in (member_b, world.facilitator):
        mark(api, who, third)
    mark(api, member_b, second)

    assert seen_ids(api, member_b, "sort=helpful") == [third, second, first]
    assert seen_ids(api, member_b, "sort=time") == [first, second, third]
    bad = api(member_b).get("/api/v1/notes/?sort=loudest")
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["sort"])


# --- The live reader's poll --------------------------------------------------------------------------


def poll(api, user, world, etag: str | None = None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return api(user).get(f"/api/v1/sessions/{world.session.id}/notes/live/", **headers)


def test_poll_answers_304_until_a_note_i_may_see_changes(world, api, essay, reading, member_b):
    mine = write(api, world.member, at(essay, 12), visibility="group").json()
    first = poll(api, world.member, world)

    unchanged = poll(api, world.member, world, first["ETag"])
    theirs = write(api, member_b, at(essay, 13), "New from B.", visibility="group").json()
    changed = poll(api, world.member, world, first["ETag"])

    assert first.status_code == 200
    assert first.json()["notes"] == [
        {
            "id": mine["id"],
            "passage": at(essay, 12).id,
            "parent": None,
            "mine": True,
            "highlight": False,
            "deleted": False,
            "updated_at": mine["updated_at"],
        }
    ]
    assert unchanged.status_code == 304
    assert changed.status_code == 200
    assert [(n["id"], n["mine"]) for n in changed.json()["notes"]] == [(mine["id"], True), (theirs["id"], False)]
    assert changed["ETag"] == f'"{changed.json()["version"]}"' != first["ETag"]


def test_poll_never_changes_for_someone_elses_private_note(world, api, essay, reading, member_b):
    etags = {who: poll(api, who, world)["ETag"] for who in (world.member, world.facilitator, world.organizer)}

    write(api, member_b, at(essay, 12), "Only for me.", visibility="private")
    highlight(api, member_b, at(essay, 13))

    for who, etag in etags.items():
        assert poll(api, who, world, etag).status_code == 304, who
    assert poll(api, member_b, world, etags[world.member]).status_code == 200


def test_poll_changes_for_replies_and_helpful_marks_i_may_see(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), visibility="group").json()
    etag = poll(api, world.member, world)["ETag"]

    write(api, member_b, at(essay, 12), "A reply.", parent=note["id"])
    after_reply = poll(api, world.member, world, etag)
    mark(api, member_b, note["id"])
    after_mark = poll(api, world.member, world, after_reply["ETag"])

    assert after_reply.status_code == 200
    assert [n["parent"] for n in after_reply.json()["notes"]] == [None, note["id"]]
    assert after_mark.status_code == 200


def test_poll_is_for_members_of_the_sessions_group(world, api, reading):
    assert poll(api, world.outsider, world).status_code == 404
    assert api(None).get(f"/api/v1/sessions/{world.session.id}/notes/live/").status_code == 401


def test_pack_formats_say_how_many_found_a_note_helpful_and_mark_highlights(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), "Land first.", visibility="group").json()
    mark(api, member_b, note["id"])
    mark(api, world.facilitator, note["id"])
    highlight(api, world.member, at(essay, 13), visibility="group")

    markdown = pack_response(api, member_b, world, "md").content.decode()
    html = pack_response(api, member_b, world, "html").content.decode()

    assert "Land first. — *Member* (2 found it helpful)" in markdown
    assert "(highlight)" in markdown
    assert "— Member · 2 found it helpful</span>" in html
    assert "— Member · highlight</span>" in html
