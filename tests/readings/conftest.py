"""Readings fixtures: the sample essay in the world's group, and a session that reads part of it."""

from pathlib import Path

import pytest

from readings.models import Passage, ReadingAssignment, Text
from readings.services.assignments import assignment_create
from readings.services.importing import text_import

SAMPLE = Path(__file__).resolve().parents[2] / "sample-texts" / "october-revolution-study-notes.txt"


@pytest.fixture
def essay(world) -> Text:
    return text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)


def at(text: Text, position: int) -> Passage:
    return text.passages.get(position=position, retired=False)


@pytest.fixture
def reading(world, essay) -> ReadingAssignment:
    """Passages 10–25 of the essay, assigned to the world's session."""
    return assignment_create(session=world.session, text=essay, start_passage=at(essay, 10), end_passage=at(essay, 25))
