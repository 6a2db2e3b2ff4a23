"""The facilitator's brief in chromium: who has read and where members got stuck, drawn, and accessible."""

import pytest
from playwright.sync_api import expect

from readings.services.notes import note_create
from readings.services.questions import question_create

from ..factories import PASSWORD, MembershipFactory, UserFactory
from .axe import check_page
from .helpers import slow_reading

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reading(world, settings):
    """Required §2–§5 (four passages of eleven words), optional §6–§17 to talk about. Nothing counts on screen."""
    return slow_reading(world, settings, heading="Land and Bread", passages=16)


def test_the_brief_shows_who_is_reading_who_has_not_opened_and_puts_14_at_the_top_of_the_stuck_map(
    base_url, page, new_page, login, world, reading, screenshot
):
    other = UserFactory(username="absent", display_name="Absent Reader")
    MembershipFactory(group=world.group, user=other)
    note_create(
        author=world.member, passage=reading[14], body="Who seized it first", visibility="group", tags=["question"]
    )
    for n in range(3):  # another member's private doubts count nowhere
        note_create(author=other, passage=reading[12], body=f"Why {n}?", visibility="private", tags=["confused"])
    asked = question_create(session=world.session, author=world.organizer, prompt="Who seized the land, and when?")
    question_create(session=world.session, author=world.organizer, prompt="What would we have done?")
    question_create(session=world.session, author=world.member, prompt="Should we read part two too?", propose=True)
    note_create(
        author=world.member, passage=reading[3], body="The peasants, in summer.", visibility="group", question=asked
    )
    login(page, "member", PASSWORD)
    page.goto(f"{base_url}/sessions/{world.session.id}/read/")
    for position in (2, 3):  # half of the required words
        page.locator(f"#p-{position}").get_by_role("button", name=f"Mark read: passage {position}").click()
    expect(page.locator("[data-progress] .progress-label")).to_have_text("50% read")

    lead = new_page()
    login(lead, "facilitator", PASSWORD)
    lead.goto(f"{base_url}/sessions/{world.session.id}/")
    lead.get_by_role("link", name="Open the facilitator's brief").click()

    expect(lead.get_by_role("heading", name=f"Brief: {world.session.title}")).to_be_visible()
    members = lead.locator("[data-brief-progress] table")
    member = members.locator("tbody tr", has=lead.get_by_role("rowheader", name="Member", exact=True))
    absent = members.locator("tbody tr", has=lead.get_by_role("rowheader", name="Absent Reader", exact=True))
    expect(member).to_contain_text("50%")
    expect(member).to_contain_text("In progress")
    expect(member.get_by_role("img", name="Member: 50% read")).to_be_visible()
    expect(absent).to_contain_text("Not opened")
    expect(lead.locator("[data-not-opened]")).to_contain_text("Absent Reader")
    stuck = lead.locator("[data-stuck-map] > li")
    expect(stuck).to_have_count(1)
    expect(stuck.first).to_contain_text("§14 of Land and Bread: 1 note asking")
    expect(stuck.first.get_by_role("img", name="Heat 100%: 1 note asking")).to_be_visible()
    questions = lead.locator("[data-brief-questions]")
    expect(questions).to_contain_text("Question 1: Who seized the land, and when?")
    expect(questions.get_by_role("heading", name="Question 2: What would we have done? No answer yet")).to_be_visible()
    expect(lead.locator("[data-brief-proposed]")).to_contain_text("Should we read part two too?")
    check_page(lead, "the facilitator's brief")
    screenshot(lead, "brief", full_page=True)

    lead.goto(f"{base_url}/sessions/{world.session.id}/read/")  # the heat strip beside the passages
    expect(lead.locator("#p-14").get_by_role("img", name="1 note asking about passage 14")).to_be_visible()
    expect(lead.locator(".heat-mark")).to_have_count(1)
    # Two readings of one text: each section is named by its title and its passages, so landmarks stay distinct.
    expect(lead.get_by_role("region", name="Land and Bread §2–§5", exact=True)).to_be_visible()
    expect(lead.get_by_role("region", name="Land and Bread §6–§17", exact=True)).to_be_attached()
    check_page(lead, "the reader with two readings of one text and the heat strip")
    refused = page.goto(f"{base_url}/sessions/{world.session.id}/brief/")  # a member has no brief
    assert refused.status == 403
