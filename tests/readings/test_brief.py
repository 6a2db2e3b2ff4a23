"""The facilitator's brief through the API (`GET sessions/{id}/discussion/`): the stuck map and the rest."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.services.notes import note_create, note_mark_helpful, note_update
from readings.services.progress import progress_record
from readings.services.questions import question_create

from ..factories import MembershipFactory, UserFactory
from .conftest import at

pytestmark = pytest.mark.django_db


def stuck(api, user, world):
    response = api(user).get(f"/api/v1/sessions/{world.session.id}/discussion/")
    assert response.status_code == 200
    return response.json()["stuck"]


def highlight(user, passage, words: str, visibility="group"):
    start = passage.body.index(words)
    selector = {"start": start, "end": start + len(words), "exact": words}
    return note_create(author=user, passage=passage, body="", selector=selector, visibility=visibility, highlight=True)


def test_a_note_tagged_question_puts_its_passage_at_the_top(world, api, essay, reading, member_b):
    p14, p12 = at(essay, 14), at(essay, 12)
    note_create(author=world.member, passage=p14, body="I do not follow this.", visibility="group", tags=["question"])
    note_create(author=member_b, passage=p14, body="Who were they?", visibility="facilitators")
    note_create(author=member_b, passage=p12, body="Confusing.", visibility="group", tags=["confused"])
    note_create(author=member_b, passage=p12, body="A remark.", visibility="group")
    words = " ".join(p14.body.split()[:3])
    highlight(world.member, p14, words)
    highlight(member_b, p14, words, visibility="facilitators")
    highlight(member_b, p12, p12.body.split()[0])

    rows = stuck(api, world.facilitator, world)

    assert [(row["position"], row["asking"]) for row in rows] == [(14, 2), (12, 1)]
    assert rows[0]["most_highlighted"] == {"words": words, "times": 2}
    assert rows[0]["anchor"] == p14.anchor


def test_private_notes_and_highlights_never_count(world, api, essay, reading, member_b):
    p14, p20 = at(essay, 14), at(essay, 20)
    note_create(author=world.member, passage=p14, body="Why?", visibility="group")
    for author in (member_b, world.facilitator):  # even the viewer's own private ones
        note_create(author=author, passage=p20, body="Why though?", visibility="private")
        note_create(author=author, passage=p14, body="Me too?", visibility="private")
        highlight(author, p14, p14.body.split()[0], visibility="private")

    rows = stuck(api, world.facilitator, world)

    assert [(row["position"], row["asking"], row["most_highlighted"]) for row in rows] == [(14, 1, None)]


def test_the_stuck_map_costs_the_same_for_few_and_many_notes(world, api, essay, reading, member_b):
    def queries_with(passages: int) -> int:
        for position in range(10, 10 + passages):
            note_create(author=member_b, passage=at(essay, position), body="Why?", visibility="group")
            highlight(member_b, at(essay, position), at(essay, position).body.split()[0])
        with CaptureQueriesContext(connection) as queries:
            assert len(stuck(api, world.facilitator, world)) == passages
        return len(queries)

    assert queries_with(2) == queries_with(8)


# --- The whole brief -------------------------------------------------------------------------------


def the_brief(api, user, world) -> dict:
    response = api(user).get(f"/api/v1/sessions/{world.session.id}/discussion/")
    assert response.status_code == 200
    return response.json()["brief"]


@pytest.mark.parametrize(
    ("who", "status"), [("facilitator", 200), ("organizer", 200), ("member", 403), ("outsider", 404)]
)
def test_only_facilitators_and_organizers_get_the_brief(world, api, reading, who, status):
    response = api(getattr(world, who)).get(f"/api/v1/sessions/{world.session.id}/discussion/")

    assert response.status_code == status
    assert ("brief" in response.json()) is (status == 200)


def test_the_brief_numbers_questions_with_their_answers_and_says_which_are_unanswered(
    world, api, essay, reading, member_b
):
    first = question_create(session=world.session, author=world.facilitator, prompt="What is a soviet?")
    question_create(session=world.session, author=member_b, prompt="Why 1905?", propose=True)
    second = question_create(session=world.session, author=world.facilitator, prompt="What changed in October?")
    note_create(author=member_b, passage=at(essay, 12), body="A workers' council.", visibility="group", question=first)

    brief = the_brief(api, world.facilitator, world)

    assert [(q["number"], q["prompt"], q["unanswered"]) for q in brief["questions"]] == [
        (1, "What is a soviet?", False),
        (2, "What changed in October?", True),
    ]
    assert [a["body"] for a in brief["questions"][0]["answers"]] == ["A workers' council."]
    assert brief["questions"][1]["id"] == second.id
    assert [(p["prompt"], p["proposed_by"]["name"]) for p in brief["proposed"]] == [("Why 1905?", member_b.name)]


def test_the_brief_ranks_helpful_and_replied_notes_and_lists_who_has_not_opened(world, api, essay, reading, member_b):
    p12, p14 = at(essay, 12), at(essay, 14)
    liked = note_create(author=member_b, passage=p12, body="Liked twice.", visibility="group")
    once = note_create(author=world.member, passage=p14, body="Liked once.", visibility="facilitators")
    for user in (world.member, world.facilitator):
        note_mark_helpful(note=liked, user=user)
    note_mark_helpful(note=once, user=world.organizer)
    for n in range(2):
        note_create(author=world.member, passage=p14, body=f"Reply {n}", parent=once)
    progress_record(user=world.member, session=world.session, passages=[p12])

    brief = the_brief(api, world.facilitator, world)

    assert [(n["body"], n["helpful_count"]) for n in brief["most_helpful"]] == [("Liked twice.", 2), ("Liked once.", 1)]
    assert [(n["body"], n["replies"]) for n in brief["most_replied"]] == [("Liked once.", 2)]
    progress = brief["progress"]
    assert {p["name"] for p in progress["not_opened"]} == {world.organizer.name, world.facilitator.name, member_b.name}
    assert [p["name"] for p in progress["in_progress"]] == [world.member.name]
    assert progress["totals"]["in_progress"] == 1


def test_with_the_per_member_view_off_the_brief_gives_totals_only(world, api, essay, reading):
    world.group.member_progress_visible = False
    world.group.save()
    progress_record(user=world.member, session=world.session, passages=[at(essay, 12)])

    progress = the_brief(api, world.facilitator, world)["progress"]

    assert (progress["members"], progress["not_opened"], progress["in_progress"]) == (None, None, None)
    assert (progress["totals"]["members"], progress["totals"]["in_progress"]) == (3, 1)


def test_with_the_per_member_view_off_no_page_or_pack_names_a_reader(world, api, client, essay, reading):
    """Totals only everywhere the brief or the group's progress shows: API, brief page, session page, each pack."""
    from .conftest import pack_response

    quiet = UserFactory(username="quiet", display_name="Quiet Reader")
    MembershipFactory(group=world.group, user=quiet)
    world.group.member_progress_visible = False
    world.group.save()
    progress_record(user=world.member, session=world.session, passages=[at(essay, 12)])
    client.force_login(world.facilitator)

    shown = {
        "progress API": api(world.facilitator).get(f"/api/v1/sessions/{world.session.id}/progress/").content,
        "brief page": client.get(f"/sessions/{world.session.id}/brief/").content,
        **{f"{fmt} pack": pack_response(api, world.facilitator, world, fmt).content for fmt in ("json", "md", "html")},
    }
    session_page = client.get(f"/sessions/{world.session.id}/").content.decode()
    # The session page names members in its RSVP list (who is coming); its progress part names nobody.
    progress_part = session_page.split('id="progress-heading"', 1)[1].split("</section>", 1)[0]

    assert {where: b"Quiet Reader" in words for where, words in shown.items()} == dict.fromkeys(shown, False)
    assert "Quiet Reader" not in progress_part
    assert "data-member-progress" not in progress_part
    assert "1 in progress" in progress_part
    assert b"1 in progress" in shown["brief page"]
    assert b"1 in progress" in shown["html pack"]


def test_a_private_note_never_reaches_the_brief(world, api, essay, reading, member_b):
    """Another member's private notes, replies, helpful marks and highlights: in no list and no count."""
    question = question_create(session=world.session, author=world.facilitator, prompt="What is a soviet?")
    p12, p14 = at(essay, 12), at(essay, 14)
    shared = note_create(author=world.member, passage=p12, body="Shared.", visibility="group")
    secret = note_create(
        author=member_b, passage=p14, body="Secret answer?", visibility="group", question=question, tags=["question"]
    )
    note_mark_helpful(note=secret, user=world.member)  # marked while shared, then made private
    note_update(note=secret, visibility="private")
    note_create(author=member_b, passage=p14, body="Secret reply?", parent=secret)
    highlight(member_b, p14, p14.body.split()[0], visibility="private")
    for user in (world.facilitator, world.organizer):  # the viewer's own private notes do not count either
        note_create(author=user, passage=p14, body="Mine?", visibility="private", question=question)

    brief = the_brief(api, world.facilitator, world)

    text = str(brief)
    assert "Secret" not in text
    assert "Mine?" not in text
    assert brief["questions"][0]["unanswered"] is True
    assert brief["stuck"] == []
    assert brief["most_helpful"] == []
    assert brief["most_replied"] == []
    assert shared.body not in text  # a note nobody marked or replied to is in no top list


def test_the_brief_costs_the_same_for_10_and_40_members(world, api, essay, reading):
    question = question_create(session=world.session, author=world.facilitator, prompt="What is a soviet?")

    def queries_with(count: int) -> int:
        while world.group.memberships.count() < count:
            user = UserFactory()
            MembershipFactory(group=world.group, user=user)
            progress_record(user=user, session=world.session, passages=[at(essay, 12)])
            note = note_create(
                author=user,
                passage=at(essay, 14),
                body="Why?",
                visibility="group",
                question=question,
                tags=["question"],
            )
            note_mark_helpful(note=note, user=world.member)
            note_create(author=world.member, passage=at(essay, 14), body="Because.", parent=note)
            highlight(user, at(essay, 14), at(essay, 14).body.split()[0])
            question_create(session=world.session, author=user, prompt="Mine?", propose=True)
        with CaptureQueriesContext(connection) as queries:
            brief = the_brief(api, world.facilitator, world)
        assert len(brief["progress"]["members"]) == count
        return len(queries)

    assert queries_with(10) == queries_with(40)


# --- The brief page ------------------------------------------------------------------------------


def test_the_brief_page_shows_facilitators_the_stuck_map_and_who_has_not_opened(
    world, client, essay, reading, member_b
):
    note_create(author=world.member, passage=at(essay, 14), body="Lost here.", visibility="group", tags=["question"])
    note_create(author=member_b, passage=at(essay, 12), body="My own secret?", visibility="private")
    progress_record(user=world.member, session=world.session, passages=[at(essay, 14)])
    client.force_login(world.facilitator)

    page = client.get(f"/sessions/{world.session.id}/brief/").content.decode()

    assert 'aria-label="Heat 100%: 1 note asking"' in page
    assert "§14</a>" in page
    assert "§12</a>" not in page
    assert "secret" not in page
    not_opened = page.split("Not opened yet:</strong>", 1)[1].split("</p>", 1)[0]
    assert [name.strip() for name in not_opened.split(",")] == [
        world.facilitator.name,
        member_b.name,
        world.organizer.name,
    ]
    assert (
        f'href="/sessions/{world.session.id}/brief/"' in client.get(f"/sessions/{world.session.id}/").content.decode()
    )


def test_members_get_no_brief_and_no_link_to_it(world, client, reading):
    client.force_login(world.member)

    assert client.get(f"/sessions/{world.session.id}/brief/").status_code == 403
    assert "/brief/" not in client.get(f"/sessions/{world.session.id}/").content.decode()


# --- The heat strip in the reader --------------------------------------------------------------------


def test_the_reader_draws_facilitators_a_heat_strip_beside_the_passages_members_asked_about(
    world, client, essay, reading, member_b
):
    for _ in range(2):
        note_create(author=member_b, passage=at(essay, 14), body="Why?", visibility="group")
    note_create(author=world.member, passage=at(essay, 12), body="Lost.", visibility="group", tags=["confused"])
    for _ in range(3):  # a private doubt never heats a passage
        note_create(author=member_b, passage=at(essay, 20), body="Mine?", visibility="private")
    url = f"/sessions/{world.session.id}/read/"

    client.force_login(world.facilitator)
    lead = client.get(url).content.decode()
    client.force_login(world.member)
    member = client.get(url).content.decode()

    assert 'aria-label="2 notes asking about passage 14"' in lead
    assert 'aria-label="1 note asking about passage 12"' in lead
    assert 'style="width:50%"' in lead.split('aria-label="1 note asking about passage 12"', 1)[1][:200]
    assert "about passage 20" not in lead
    assert "heat-mark" not in member


def test_a_facilitator_who_does_not_lead_the_session_sees_no_proposals_in_its_brief(world, api, reading):
    """Proposals are for those who lead the session (`questions_for`): the questions API answers 404 on one."""
    from sessions_app.enums import Role

    other = UserFactory(username="other-facilitator")
    MembershipFactory(group=world.group, user=other, role=Role.FACILITATOR)
    proposal = question_create(
        session=world.session, author=world.member, prompt="Can we talk about rent?", propose=True
    )

    assert api(other).get(f"/api/v1/sessions/{world.session.id}/questions/{proposal.id}/").status_code == 404
    assert the_brief(api, other, world)["proposed"] == []
    assert api(other).get(f"/api/v1/sessions/{world.session.id}/pack/").json()["brief"]["proposed"] == []
    assert [row["id"] for row in the_brief(api, world.facilitator, world)["proposed"]] == [proposal.id]
    assert [row["id"] for row in the_brief(api, world.organizer, world)["proposed"]] == [proposal.id]
