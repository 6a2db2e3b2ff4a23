"""axe-core on every page a person meets, at desktop and phone width: no serious or critical violation.

The journeys (test_member_journey, test_organizer_journey, …) check the states
they pass through (a form open, a download waiting); this file walks the
pages themselves, as each kind of person sees them, including editors, the
printable pack and the error pages.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create
from readings.services.questions import question_create
from sessions_app.services.groups import invitation_create

from ..factories import PASSWORD
from ..readings.conftest import SAMPLE
from .axe import check_page

pytestmark = pytest.mark.browser


@pytest.fixture
def prepared(world):
    """A text, a reading, questions and notes: every page has something on it."""
    essay = text_import(group=world.group, created_by=world.organizer, data=SAMPLE.read_bytes(), filename=SAMPLE.name)
    passages = {p.position: p for p in essay.passages.filter(retired=False)}
    assignment = assignment_create(
        session=world.session, text=essay, start_passage=passages[10], end_passage=passages[14], instructions="Closely."
    )
    question_create(session=world.session, author=world.organizer, prompt="Why did October not fail?")
    question_create(session=world.session, author=world.organizer, prompt="What holds the alliance together?")
    body = passages[12].body
    words = body.split()[3]
    start = body.index(words)
    note = note_create(
        author=world.facilitator,
        passage=passages[12],
        body="Land and **peace**.",
        visibility="group",
        selector={"start": start, "end": start + len(words), "exact": words},
        tags=["peasants"],
    )
    note_create(author=world.member, passage=passages[12], parent=note, body="And bread.", visibility="group")
    note_create(author=world.member, passage=passages[13], body="My own thought.", visibility="private")
    invitation = invitation_create(
        group=world.group, created_by=world.organizer, max_uses=5, expires_at=timezone.now() + timedelta(days=7)
    )
    return {"essay": essay, "assignment": assignment, "invitation": invitation}


def visit_all(page, states) -> None:
    failures = []
    for url, state in states:
        page.goto(url)
        try:
            check_page(page, state)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


def test_pages_of_an_organizer(world, prepared, page, login):
    session, group = world.session, world.group
    login(page, "organizer", PASSWORD)
    visit_all(
        page,
        [
            ("/", "dashboard"),
            (f"/groups/{group.pk}/", "group page"),
            ("/groups/new/", "new group form"),
            (f"/groups/{group.pk}/sessions/new/", "session editor"),
            (f"/groups/{group.pk}/series/new/", "series editor"),
            (f"/sessions/{session.pk}/", "session page"),
            (f"/sessions/{session.pk}/edit/", "session edit form"),
            (f"/sessions/{session.pk}/cancel/", "cancel session form"),
            (f"/sessions/{session.pk}/questions/", "question editor"),
            (f"/sessions/{session.pk}/readings/new/", "assignment: choose a text"),
            (f"/sessions/{session.pk}/readings/new/?text={prepared['essay'].pk}", "assignment: passage picker"),
            (f"/groups/{group.pk}/texts/import/", "text import form"),
            (f"/texts/{prepared['essay'].pk}/", "text page"),
            (f"/sessions/{session.pk}/read/", "reader"),
            (f"/api/v1/sessions/{session.pk}/pack/?format=html", "printable pack"),
            ("/reminders/preferences/", "preferences"),
        ],
    )


def test_pages_of_a_member(world, prepared, page, login):
    session = world.session
    login(page, "member", PASSWORD)
    visit_all(
        page,
        [
            ("/", "dashboard"),
            (f"/groups/{world.group.pk}/", "group page"),
            (f"/sessions/{session.pk}/", "session page"),
            (f"/sessions/{session.pk}/read/", "reader"),
            (f"/sessions/{session.pk}/read/?visibility=group", "reader, filtered"),
            (f"/sessions/{session.pk}/edit/", "403: an organizer's page"),
            ("/groups/999999/", "404: no such group"),
        ],
    )


def test_pages_of_someone_signed_out(world, prepared, page):
    visit_all(
        page,
        [
            ("/accounts/login/", "login"),
            ("/accounts/password-reset/", "password reset"),
            (f"/join/{prepared['invitation'].token}/", "sign-up by invitation"),
            ("/no/such/page/", "404"),
        ],
    )
