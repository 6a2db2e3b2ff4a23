"""Notes through the API: writing, privacy by role, replies, moderation, filters, peeking."""

import pytest

from readings.models import Note

from .conftest import at

pytestmark = pytest.mark.django_db


def write(api, user, passage, body="A note.", **fields):
    return api(user).post("/api/v1/notes/", {"passage": passage.id, "body": body, **fields}, format="json")


def seen(api, user, **filters) -> set[str]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    response = api(user).get(f"/api/v1/notes/?page_size=500&{query}")
    assert response.status_code == 200
    return {note["body"] for note in response.json()["results"]}


@pytest.fixture
def threads(world, api, essay, reading, member_b):
    """Member A's private, group and facilitators notes, and A's reply to B's group note."""
    passage = at(essay, 12)
    b_note = write(api, member_b, passage, "B: group note", visibility="group").json()
    write(api, world.member, passage, "A: private", visibility="private")
    write(api, world.member, passage, "A: group", visibility="group")
    write(api, world.member, passage, "A: facilitators", visibility="facilitators")
    write(api, world.member, passage, "A: reply to B", parent=b_note["id"], visibility="private")
    return b_note


def test_note_with_selector_gets_context_and_rendered_body(world, api, essay, reading):
    passage = at(essay, 12)
    start = passage.body.index("(who were hungry for land)")
    exact = "(who were hungry for land)"

    response = write(
        api,
        world.member,
        passage,
        "**Key** point: <script>alert(1)</script>",
        visibility="group",
        selector={"start": start, "end": start + len(exact), "exact": exact},
        tags=["Peasants", "land"],
    )

    assert response.status_code == 201
    body = response.json()
    assert body["selector"] == {
        "start": start,
        "end": start + len(exact),
        "exact": exact,
        "prefix": passage.body[start - 32 : start],
        "suffix": passage.body[start + len(exact) : start + len(exact) + 32],
    }
    assert body["body_html"] == "<p><strong>Key</strong> point: &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert body["author"] == {"id": world.member.id, "name": "Member"}
    assert (body["anchor_state"], body["tags"], body["visibility"]) == ("anchored", ["land", "peasants"], "group")


def test_selector_counts_code_points_not_utf16_units(world, api):
    from readings.services.importing import text_import

    text = text_import(group=world.group, created_by=None, content="Title\n\n🙂 The “dictatorship” of the proletariat.")
    passage = text.passages.get(position=2)
    start = passage.body.index("dictatorship")  # 5 in code points; 6 in UTF-16 units (the emoji is two)
    exact = "dictatorship"

    in_code_points = write(api, world.member, passage, selector={"start": start, "end": start + 12, "exact": exact})
    in_utf16_units = write(api, world.member, passage, selector={"start": start + 1, "end": start + 13, "exact": exact})

    assert in_code_points.status_code == 201
    assert in_code_points.json()["selector"]["prefix"] == "🙂 The “"
    assert in_utf16_units.status_code == 400


def test_each_role_sees_exactly_what_the_table_allows(world, api, threads, member_b):
    assert seen(api, world.member) == {"B: group note", "A: private", "A: group", "A: facilitators", "A: reply to B"}
    assert seen(api, member_b) == {"B: group note", "A: group", "A: reply to B"}
    assert seen(api, world.facilitator) == {"B: group note", "A: group", "A: facilitators", "A: reply to B"}
    assert seen(api, world.organizer) == {"B: group note", "A: group", "A: facilitators", "A: reply to B"}
    assert seen(api, world.outsider) == set()
    assert api(None).get("/api/v1/notes/").status_code == 401


def test_reply_takes_its_parents_audience(world, api, threads):
    reply = Note.objects.get(body="A: reply to B")

    assert reply.visibility == "group"
    assert reply.parent_id == threads["id"]


def test_parent_author_sees_replies_to_their_facilitators_note(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), "A asks the facilitators", visibility="facilitators").json()
    write(api, world.facilitator, at(essay, 12), "F answers", parent=note["id"])

    assert seen(api, world.member) == {"A asks the facilitators", "F answers"}
    assert seen(api, member_b) == set()


def test_private_note_is_a_404_for_everyone_else(world, api, essay, reading):
    note = write(api, world.member, at(essay, 12), "secret", visibility="private").json()

    for user in (world.organizer, world.facilitator, world.outsider):
        assert api(user).get(f"/api/v1/notes/{note['id']}/").status_code == 404
    assert api(world.member).get(f"/api/v1/notes/{note['id']}/").json()["body"] == "secret"


def test_replying_to_a_note_you_cannot_see_is_a_400(world, api, essay, reading, member_b):
    private = write(api, world.member, at(essay, 12), "secret", visibility="private").json()

    response = write(api, member_b, at(essay, 12), "peek", parent=private["id"])

    assert response.status_code == 400
    assert response.json()["detail"] == "parent: No such note to reply to."
    assert Note.objects.count() == 1


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"start": 0, "end": 100000, "exact": "x"}, "selector: start and end must satisfy 0 ≤ start < end ≤"),
        ({"start": 5, "end": 5, "exact": ""}, "selector.exact: This field may not be blank."),
        ({"start": -1, "end": 3, "exact": "abc"}, "selector: start and end must satisfy"),
        ({"start": 0, "end": 3, "exact": "not what it says"}, "selector: exact does not match the passage at 0–3"),
    ],
)
def test_bad_selectors_are_400s(world, api, essay, reading, selector, message):
    response = write(api, world.member, at(essay, 12), selector=selector)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert list(response.json()["errors"]) in (["selector"], ["selector.exact"])
    assert not Note.objects.exists()


def test_passage_of_another_group_is_a_400(world, api, essay, reading):
    from readings.services.importing import text_import

    foreign = text_import(group=world.other_group, created_by=None, content="Foreign\n\nTheir text.")

    response = write(api, world.member, at(foreign, 2))

    assert response.status_code == 400
    assert response.json()["detail"] == "passage: No such passage in your groups."


def test_a_question_of_a_draft_session_is_no_question_a_member_can_answer(world, api, essay, reading):
    """Members do not see drafts: its questions read as unknown (400), on a new note and on an edit, as anywhere."""
    from readings.services.assignments import assignment_create
    from readings.services.questions import question_create
    from sessions_app.enums import SessionStatus

    from ..factories import SessionFactory

    draft = SessionFactory(group=world.group, status=SessionStatus.DRAFT)
    assignment_create(session=draft, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 12))
    unseen = question_create(session=draft, author=world.organizer, prompt="Not announced yet?")
    note = Note.objects.get(pk=write(api, world.member, at(essay, 11)).json()["id"])

    created = write(api, world.member, at(essay, 11), question=unseen.id)
    edited = api(world.member).patch(f"/api/v1/notes/{note.id}/", {"question": unseen.id}, format="json")
    led = write(api, world.organizer, at(essay, 11), question=unseen.id)  # who sees the draft may answer it

    for response in (created, edited):
        assert response.status_code == 400
        assert response.json()["errors"] == {"question": ["No such question for this passage's group."]}
    assert led.status_code == 201
    assert list(Note.objects.filter(question=unseen).values_list("author__username", flat=True)) == ["organizer"]


def test_oversized_body_is_a_400(world, api, essay, settings):
    settings.NOTE_BODY_MAX_CHARS = 100

    response = write(api, world.member, at(essay, 12), "x" * 101)

    assert response.status_code == 400
    assert response.json()["detail"] == "body: The note is 101 characters long; the limit is 100."


def test_author_edits_and_others_cannot(world, api, essay, reading):
    note = write(api, world.member, at(essay, 12), "first", visibility="group").json()

    edited = api(world.member).patch(f"/api/v1/notes/{note['id']}/", {"body": "*second*"}, format="json")
    organizer = api(world.organizer).patch(f"/api/v1/notes/{note['id']}/", {"body": "mine now"}, format="json")

    assert edited.json()["body_html"] == "<p><em>second</em></p>"
    assert organizer.status_code == 403


def test_deleting_a_note_with_replies_leaves_a_placeholder(world, api, essay, reading, member_b):
    note = write(api, world.member, at(essay, 12), "parent", visibility="group").json()
    write(api, member_b, at(essay, 12), "reply", parent=note["id"])

    api(world.member).delete(f"/api/v1/notes/{note['id']}/")
    placeholder = api(member_b).get(f"/api/v1/notes/{note['id']}/").json()

    assert (placeholder["deleted"], placeholder["body"], placeholder["author"]) == (True, "", None)
    assert seen(api, member_b) == {"", "reply"}


def test_deleting_a_note_without_replies_removes_it(world, api, essay, reading):
    note = write(api, world.member, at(essay, 12), "gone").json()

    assert api(world.member).delete(f"/api/v1/notes/{note['id']}/").status_code == 204
    assert not Note.objects.exists()


def test_organizer_hides_a_group_note_and_only_its_author_and_the_organizers_see_it(
    world, api, essay, reading, member_b
):
    note = write(api, member_b, at(essay, 12), "off topic", visibility="group").json()

    by_member = api(world.member).post(f"/api/v1/notes/{note['id']}/hide/", {"hidden": True}, format="json")
    hidden = api(world.organizer).post(f"/api/v1/notes/{note['id']}/hide/", {"hidden": True}, format="json")

    assert by_member.status_code == 403
    assert (hidden.status_code, hidden.json()["hidden"]) == (200, True)
    assert seen(api, world.member) == set()
    assert seen(api, world.facilitator) == set()
    assert seen(api, world.organizer) == {"off topic"}
    own = api(member_b).get(f"/api/v1/notes/{note['id']}/").json()
    assert (own["body"], own["hidden"]) == ("off topic", True)


def test_filters(world, api, essay, reading):
    question = (
        api(world.organizer)
        .post(f"/api/v1/sessions/{world.session.id}/questions/", {"prompt": "Why?"}, format="json")
        .json()
    )
    write(api, world.member, at(essay, 12), "on 12", visibility="group", tags=["land"])
    write(api, world.member, at(essay, 13), "answers", visibility="group", question=question["id"])
    write(api, world.facilitator, at(essay, 2), "outside the reading", visibility="group")

    assert seen(api, world.member, passage=at(essay, 12).id) == {"on 12"}
    assert seen(api, world.member, tag="land") == {"on 12"}
    assert seen(api, world.member, question=question["id"]) == {"answers"}
    assert seen(api, world.member, session=world.session.id) == {"on 12", "answers"}
    assert seen(api, world.member, author=world.facilitator.id) == {"outside the reading"}
    assert seen(api, world.member, text=essay.id, visibility="group") == {"on 12", "answers", "outside the reading"}
    assert seen(api, world.member, anchor_state="orphaned") == set()


def test_post_before_you_peek(world, api, essay, reading, member_b):
    world.session.post_before_peek = True
    world.session.save()
    write(api, member_b, at(essay, 12), "B's thoughts", visibility="group")
    write(api, member_b, at(essay, 2), "outside the session", visibility="group")

    before = seen(api, world.member)
    write(api, world.member, at(essay, 12), "my own first", visibility="private")
    after = seen(api, world.member)

    assert before == {"outside the session"}
    assert after == {"outside the session", "B's thoughts", "my own first"}
    assert seen(api, world.facilitator) == {"B's thoughts", "outside the session"}


def test_discussion_overview_for_facilitators(world, api, essay, reading, member_b):
    question = (
        api(world.organizer)
        .post(f"/api/v1/sessions/{world.session.id}/questions/", {"prompt": "Why?"}, format="json")
        .json()
    )
    write(api, world.member, at(essay, 12), "answer 1", visibility="group", question=question["id"])
    write(api, member_b, at(essay, 12), "answer 2", visibility="group", question=question["id"])
    write(api, member_b, at(essay, 13), "private answer", visibility="private", question=question["id"])
    write(api, member_b, at(essay, 14), "a remark", visibility="group")

    overview = api(world.facilitator).get(f"/api/v1/sessions/{world.session.id}/discussion/").json()
    member = api(world.member).get(f"/api/v1/sessions/{world.session.id}/discussion/")

    assert [a["body"] for a in overview["questions"][0]["answers"]] == ["answer 1", "answer 2"]
    assert [(p["position"], p["note_count"]) for p in overview["busiest_passages"]] == [(12, 2), (14, 1)]
    assert member.status_code == 403


@pytest.mark.parametrize("count", [1, 3])
def test_notes_list_query_count_is_constant(world, api, essay, reading, django_assert_num_queries, count):
    for n in range(count):
        note = write(api, world.member, at(essay, 12 + n), f"n{n}", visibility="group", tags=["a", "b"]).json()
        write(api, world.facilitator, at(essay, 12 + n), f"r{n}", parent=note["id"])
    client = api(world.member)

    # 6: one more than before mentions, which are prefetched with their users; none to count them, as
    # they fit on the first page (core.api.pagination); a GET opens no transaction (core/transactions.py).
    with django_assert_num_queries(4):
        assert client.get("/api/v1/notes/").json()["count"] == 2 * count


def test_notes_list_query_count_at_fifty(world, api, essay, reading, django_assert_num_queries):
    for n in range(50):
        write(api, world.member, at(essay, 10 + n % 15), f"n{n}", visibility="group", tags=["x"])

    with django_assert_num_queries(4):
        assert api(world.organizer).get("/api/v1/notes/?page_size=100").json()["count"] == 50
    # Over a page, the paginator counts them: one query more, still constant.
    with django_assert_num_queries(5):
        assert api(world.organizer).get("/api/v1/notes/?page_size=20").json()["count"] == 50


def test_note_with_others_replies_cannot_widen_its_audience(world, api, essay, reading, member_b):
    question = write(api, world.member, at(essay, 12), "I am struggling", visibility="facilitators").json()
    reply = write(api, world.facilitator, at(essay, 12), "See me after the session", parent=question["id"]).json()

    widened = api(world.member).patch(f"/api/v1/notes/{question['id']}/", {"visibility": "group"}, format="json")

    assert widened.status_code == 400
    assert (
        widened.json()["detail"]
        == "visibility: Others have replied in this thread, so its audience can no longer change."
    )
    assert api(member_b).get(f"/api/v1/notes/{reply['id']}/").status_code == 404


def test_organizer_shows_a_hidden_note_again_and_members_cannot_find_it(world, api, essay, reading, member_b):
    note = write(api, member_b, at(essay, 12), "off topic", visibility="group").json()
    api(world.organizer).post(f"/api/v1/notes/{note['id']}/hide/", {"hidden": True}, format="json")

    by_member = api(world.member).post(f"/api/v1/notes/{note['id']}/hide/", {"hidden": False}, format="json")
    shown = api(world.organizer).post(f"/api/v1/notes/{note['id']}/hide/", {"hidden": False}, format="json")

    assert by_member.status_code == 404
    assert (shown.status_code, shown.json()["hidden"]) == (200, False)
    assert seen(api, world.member) == {"off topic"}


# --- Threads: a reply has its root's audience at any depth; hiding takes the subtree along ----------


def ids_seen(api, user, **filters) -> set[int]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    response = api(user).get(f"/api/v1/notes/?page_size=500&{query}")
    assert response.status_code == 200
    return {note["id"] for note in response.json()["results"]}


def thread_of_three(api, essay, root_author, child_author, grandchild_author, visibility="group") -> list[int]:
    """A root note, a reply to it and a reply to that reply, on passage 12."""
    root = write(api, root_author, at(essay, 12), "root", visibility=visibility).json()
    child = write(api, child_author, at(essay, 12), "child", parent=root["id"]).json()
    grandchild = write(api, grandchild_author, at(essay, 12), "grandchild", parent=child["id"]).json()
    return [root["id"], child["id"], grandchild["id"]]


def test_making_a_thread_private_reaches_the_replies_to_replies(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, world.member, world.member, world.member)

    changed = api(world.member).patch(f"/api/v1/notes/{root}/", {"visibility": "private"}, format="json")

    assert changed.status_code == 200
    for user in (member_b, world.facilitator, world.organizer):
        assert api(user).get(f"/api/v1/notes/{grandchild}/").status_code == 404
        assert ids_seen(api, user) == set()
    own = api(world.member).get(f"/api/v1/notes/{grandchild}/").json()
    assert (own["body"], own["visibility"]) == ("grandchild", "private")
    assert ids_seen(api, world.member) == {root, child, grandchild}


def test_narrowing_a_thread_to_facilitators_reaches_the_replies_to_replies(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, world.facilitator, world.facilitator, world.facilitator)

    api(world.facilitator).patch(f"/api/v1/notes/{root}/", {"visibility": "facilitators"}, format="json")

    assert api(world.member).get(f"/api/v1/notes/{grandchild}/").status_code == 404
    assert ids_seen(api, world.member) == set()
    assert ids_seen(api, world.organizer) == {root, child, grandchild}
    assert api(world.organizer).get(f"/api/v1/notes/{grandchild}/").json()["visibility"] == "facilitators"


def test_a_thread_with_someone_elses_reply_anywhere_keeps_its_audience(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, world.member, world.member, member_b)

    narrowed = api(world.member).patch(f"/api/v1/notes/{root}/", {"visibility": "private"}, format="json")

    assert narrowed.status_code == 400
    assert narrowed.json()["detail"] == (
        "visibility: Others have replied in this thread, so its audience can no longer change."
    )
    assert ids_seen(api, member_b) == {root, child, grandchild}
    assert api(member_b).get(f"/api/v1/notes/{grandchild}/").json()["visibility"] == "group"


def test_a_reply_inherits_the_roots_audience_at_any_depth(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(
        api, essay, world.member, world.facilitator, world.organizer, visibility="facilitators"
    )
    deeper = write(api, world.member, at(essay, 12), "deeper", parent=grandchild, visibility="group").json()

    assert deeper["visibility"] == "facilitators"
    assert ids_seen(api, member_b) == set()
    assert ids_seen(api, world.member) == {root, child, grandchild, deeper["id"]}
    assert ids_seen(api, world.facilitator) == {root, child, grandchild, deeper["id"]}


def test_replies_to_a_hidden_note_are_hidden_with_it(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, member_b, world.member, world.facilitator)

    hidden = api(world.organizer).post(f"/api/v1/notes/{root}/hide/", {"hidden": True}, format="json")

    assert hidden.status_code == 200
    for user in (world.member, world.facilitator):
        assert ids_seen(api, user) == set()
        for note in (root, child, grandchild):
            assert api(user).get(f"/api/v1/notes/{note}/").status_code == 404
    # Its author still sees it, marked, with the replies written to it; so do the organizers, who moderate.
    for user in (member_b, world.organizer):
        assert ids_seen(api, user) == {root, child, grandchild}
        assert api(user).get(f"/api/v1/notes/{root}/").json()["hidden"] is True


def test_hiding_a_reply_hides_what_answers_it_and_leaves_the_thread_above(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, world.facilitator, member_b, world.member)

    api(world.organizer).post(f"/api/v1/notes/{child}/hide/", {"hidden": True}, format="json")

    assert ids_seen(api, world.member) == {root}
    assert ids_seen(api, world.facilitator) == {root}
    assert ids_seen(api, member_b) == {root, child, grandchild}
    assert ids_seen(api, world.organizer) == {root, child, grandchild}


def test_showing_a_hidden_note_again_brings_its_thread_back(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, member_b, world.member, world.facilitator)
    api(world.organizer).post(f"/api/v1/notes/{root}/hide/", {"hidden": True}, format="json")

    api(world.organizer).post(f"/api/v1/notes/{root}/hide/", {"hidden": False}, format="json")

    assert ids_seen(api, world.member) == {root, child, grandchild}
    assert ids_seen(api, world.facilitator) == {root, child, grandchild}


def test_a_reply_to_a_hidden_note_stays_out_of_view_with_it(world, api, essay, reading, member_b):
    root = write(api, member_b, at(essay, 12), "off topic", visibility="group").json()["id"]
    api(world.organizer).post(f"/api/v1/notes/{root}/hide/", {"hidden": True}, format="json")

    reply = write(api, member_b, at(essay, 12), "but why?", parent=root).json()["id"]

    assert ids_seen(api, world.member) == set()
    assert api(world.member).get(f"/api/v1/notes/{reply}/").status_code == 404
    assert ids_seen(api, member_b) == {root, reply}


def test_reattaching_a_note_moves_its_whole_thread(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, world.member, member_b, world.member)

    moved = api(world.member).patch(f"/api/v1/notes/{root}/", {"passage": at(essay, 14).id}, format="json")

    assert moved.status_code == 200
    assert ids_seen(api, member_b, passage=at(essay, 14).id) == {root, child, grandchild}
    assert ids_seen(api, member_b, passage=at(essay, 12).id) == set()


def test_a_reply_cannot_leave_its_thread_for_another_passage(world, api, essay, reading, member_b):
    root, child, grandchild = thread_of_three(api, essay, world.member, world.member, world.member)

    moved = api(world.member).patch(f"/api/v1/notes/{child}/", {"passage": at(essay, 14).id}, format="json")

    assert moved.status_code == 400
    assert moved.json()["detail"] == "passage: A reply stays on the passage of the note it answers."
    assert ids_seen(api, world.member, passage=at(essay, 12).id) == {root, child, grandchild}


def test_id_filters_take_whole_numbers_only(world, api, essay, reading):
    write(api, world.member, at(essay, 12), "on 12", visibility="group")
    passage = at(essay, 12).id

    response = api(world.member).get(f"/api/v1/notes/?passage={passage}.5")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "passage: Enter a whole number.",
        "errors": {"passage": ["Enter a whole number."]},
    }
    assert seen(api, world.member, passage=passage) == {"on 12"}


def test_note_create_answers_the_note_as_it_reads_back(world, api, essay, reading, django_assert_num_queries):
    passage = at(essay, 12)
    exact = "(who were hungry for land)"
    start = passage.body.index(exact)
    client = api(world.member)
    top = write(api, world.facilitator, passage, "Who *wrote* this?", visibility="group").json()

    with django_assert_num_queries(NOTE_CREATE_QUERIES):
        created = client.post(
            "/api/v1/notes/",
            {
                "passage": passage.id,
                "body": "**Key** point",
                "visibility": "group",
                "selector": {"start": start, "end": start + len(exact), "exact": exact},
                "tags": ["land", "Peasants"],
            },
            format="json",
        )
    reply = write(api, world.member, passage, "Lenin, I think.", parent=top["id"], visibility="private")

    assert created.status_code == 201
    assert created.json() == client.get(f"/api/v1/notes/{created.json()['id']}/").json()
    assert created.json()["tags"] == ["land", "peasants"] or sorted(created.json()["tags"]) == created.json()["tags"]
    assert reply.status_code == 201
    assert reply.json() == client.get(f"/api/v1/notes/{reply.json()['id']}/").json()
    assert reply.json()["visibility"] == "group"  # a reply takes its thread's audience


def test_writing_a_note_does_not_read_its_texts_whole_content(world, api, essay, reading):
    """Finding the passage read its text's every column, the text's whole content (`full_text`, a book's worth)
    included, on every note written; the note needs the text's group only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        created = api(world.member).post(
            "/api/v1/notes/", {"passage": at(essay, 12).id, "body": "Why *here*?", "visibility": "group"}, format="json"
        )

    assert created.status_code == 201
    assert not [query["sql"] for query in queries if '"full_text"' in query["sql"]]


# The passage with the member's membership; the member's last audience, the note and its tags written; its two
# tags read back for the answer (in the database's order; no mention to read: it mentions nobody);
# SAVEPOINT/RELEASE of the request's transaction (in the test's; the service checks everything before it writes,
# so it needs no savepoint of its own); who the note reaches, the readings holding its passage and their
# sessions' pack versions raised (three). A note that mentions nobody and answers nobody tells nobody: no
# notification queries.
NOTE_CREATE_QUERIES = 10


def test_a_note_with_one_tag_and_no_mention_is_answered_without_reading_them_back(
    world, api, essay, reading, django_assert_num_queries
):
    client, passage = api(world.member), at(essay, 12)
    # The second note: no tag to write either, and its audience is the one the member's membership remembers.
    for tags, queries in (([" #Land "], NOTE_CREATE_QUERIES - 1), ([], NOTE_CREATE_QUERIES - 3)):
        with django_assert_num_queries(queries):
            created = client.post(
                "/api/v1/notes/",
                {"passage": passage.id, "body": "Why *here*?", "visibility": "group", "tags": tags},
                format="json",
            )
        assert created.status_code == 201
        assert created.json() == client.get(f"/api/v1/notes/{created.json()['id']}/").json()
        assert (created.json()["tags"], created.json()["mentions"]) == ([tag.strip(" #").lower() for tag in tags], [])
