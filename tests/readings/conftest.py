"""Readings fixtures: the sample essay in the world's group, and a session that reads part of it."""

from pathlib import Path

import pytest

from readings.models import Passage, ReadingAssignment, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import

from ..factories import MembershipFactory

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"
# The works the sample essay cites, in order (its "Sources" lines), as the parser finds them.
SAMPLE_CITED_WORKS = [
    "On the Road to October",
    "The October Revolution and the Tactics of the Russian Communists",
    "On the Slogan for a United States of Europe",
    "On Co-operation",
    "Our Revolution",
    "Peace Programme",
    "Six Red Months in Russia",
]


@pytest.fixture
def essay(world) -> Text:
    return text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)


@pytest.fixture
def member_b(world):
    """A second plain member of the world's group ("Bea"), for notes by someone else."""
    return MembershipFactory(group=world.group, user__username="member_b", user__display_name="Bea").user


def at(text: Text, position: int) -> Passage:
    return text.passages.get(position=position, retired=False)


@pytest.fixture
def reading(world, essay) -> ReadingAssignment:
    """Passages 10–25 of the essay, assigned to the world's session."""
    return assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))


def pack_response(api, user, world, fmt: str | None = None):
    """The pack in `fmt` as `user` gets it; PDF and EPUB once the worker has rendered them (its part run here)."""
    from readings.services.pack_files import pack_file_render

    url = f"/api/v1/sessions/{world.session.id}/pack/" + (f"?format={fmt}" if fmt else "")
    response = api(user).get(url)
    if response.status_code == 202:
        version = response.json()["version"]
        pack_file_render(session_id=world.session.id, user_id=user.id, fmt=fmt, version=version)
        response = api(user).get(url)
    return response
