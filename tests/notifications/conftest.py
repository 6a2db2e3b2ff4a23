"""Notifications fixtures: the essay in the world's group, read by its session (passages 10–25)."""

import pytest

from ..readings.conftest import SAMPLE, at
from ..reminders.conftest import NOW


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def essay(world, clock):
    from readings.services.importing import text_import

    return text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)


@pytest.fixture
def passage(essay):
    return at(essay, 12)
