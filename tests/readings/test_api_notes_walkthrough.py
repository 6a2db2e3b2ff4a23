"""Issue 4's walk-through, through the API alone, on the sample essay.

The organizer assigns passages 10–25 and adds five questions tied to passages;
member A writes a private, a group and a facilitators note, and replies to
member B's group note; each role then sees exactly what DESIGN.md allows.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ..factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


def test_issue_4_walkthrough_through_the_api(world, api):
    organizer, facilitator, member_a, outsider = world.organizer, world.facilitator, world.member, world.outsider
    member_b = UserFactory(username="member_b")
    MembershipFactory(group=world.group, user=member_b)
    session = f"/api/v1/sessions/{world.session.id}"

    text = (
        api(organizer)
        .post(
            "/api/v1/texts/",
            {"group": world.group.id, "file": SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes())},
            format="multipart",
        )
        .json()
    )
    passages = api(member_a).get(f"/api/v1/texts/{text['id']}/passages/?page_size=500").json()["results"]
    by_position = {p["position"]: p for p in passages}
    reading = api(organizer).post(
        f"{session}/readings/",
        {"text": text["id"], "start_passage": by_position[10]["id"], "end_passage": by_position[25]["id"]},
        format="json",
    )
    questions = [
        api(organizer).post(
            f"{session}/questions/",
            {
                "prompt": f"Question {n}",
                "kind": kind,
                "passages": [by_position[10 + 3 * n]["id"]],
                "minutes": 5,
                "facilitator_notes": f"Hint {n}",
            },
            format="json",
        )
        for n, kind in enumerate(["opening", "comprehension", "discussion", "application", "closing"])
    ]
    twelve = by_position[12]
    b_note = (
        api(member_b)
        .post("/api/v1/notes/", {"passage": twelve["id"], "body": "B group", "visibility": "group"}, format="json")
        .json()
    )
    for visibility in ("private", "group", "facilitators"):
        created = api(member_a).post(
            "/api/v1/notes/",
            {"passage": twelve["id"], "body": f"A {visibility}", "visibility": visibility},
            format="json",
        )
        assert created.status_code == 201
    reply = api(member_a).post(
        "/api/v1/notes/", {"passage": twelve["id"], "body": "A reply", "parent": b_note["id"]}, format="json"
    )

    assert reading.status_code == 201
    assert reading.json()["reading_minutes"] >= 1
    assert [q.status_code for q in questions] == [201] * 5
    assert reply.json()["visibility"] == "group"

    def notes_seen_by(user) -> set[str]:
        return {n["body"] for n in api(user).get(f"/api/v1/notes/?session={world.session.id}").json()["results"]}

    assert notes_seen_by(member_a) == {"B group", "A private", "A group", "A facilitators", "A reply"}
    assert notes_seen_by(member_b) == {"B group", "A group", "A reply"}
    assert notes_seen_by(facilitator) == {"B group", "A group", "A facilitators", "A reply"}
    assert notes_seen_by(organizer) == {"B group", "A group", "A facilitators", "A reply"}
    assert api(outsider).get(f"/api/v1/notes/?session={world.session.id}").status_code == 404

    def hints_seen_by(user) -> list:
        return [q.get("facilitator_notes") for q in api(user).get(f"{session}/questions/").json()["results"]]

    assert hints_seen_by(member_a) == [None] * 5
    assert hints_seen_by(facilitator) == [f"Hint {n}" for n in range(5)]
    assert api(member_b).get(f"{session}/questions/").json()["count"] == 5
