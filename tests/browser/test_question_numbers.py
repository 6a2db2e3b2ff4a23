"""Questions carry their number everywhere a member meets them, and "answers question 2" leads to it."""

import pytest
from playwright.sync_api import expect

from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create
from readings.services.questions import question_create

from ..factories import PASSWORD

pytestmark = pytest.mark.browser

CONTENT = "Land and peace\n\nThe peasants wanted land and the soldiers wanted peace.\n"


def test_a_note_that_answers_question_2_links_to_it_in_the_readers_panel(world, page, login, base_url):
    text = text_import(group=world.group, created_by=world.organizer, content=CONTENT, title="Land and peace")
    passages = list(text.passages.order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=passages[0], end_passage=passages[-1])
    question_create(session=world.session, author=world.organizer, prompt="Who wanted land?", passages=[passages[1]])
    question_create(session=world.session, author=world.member, prompt="My proposal?", propose=True)
    second = question_create(session=world.session, author=world.organizer, prompt="Who wanted peace?")
    note_create(
        author=world.facilitator, passage=passages[1], body="The soldiers.", visibility="group", question=second
    )
    login(page, "member", PASSWORD)

    page.goto(f"/sessions/{world.session.pk}/")
    expect(page.locator(".question-list .prompt", has_text="Who wanted peace?")).to_have_text("2. Who wanted peace?")

    page.goto(f"/sessions/{world.session.pk}/read/")
    panel = page.get_by_role("region", name="Questions for the session")
    expect(panel.get_by_role("listitem")).to_have_text(
        [
            "1. Who wanted land? On §2",
            "2. Who wanted peace?",
        ],
        use_inner_text=True,
    )
    card = page.locator(".note-card", has_text="The soldiers.")
    expect(card.locator(".answers")).to_have_text("Answers question 2: Who wanted peace?")
    card.get_by_role("link", name="question 2").click()

    expect(page).to_have_url(f"{base_url}/sessions/{world.session.pk}/read/#question-{second.pk}")
    target = page.locator(f"#question-{second.pk}")
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("2. Who wanted peace?")
