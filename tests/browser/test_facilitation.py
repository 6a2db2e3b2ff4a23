"""Facilitation in chromium: reading progress in the reader, the facilitator's view of it, and search."""

import pytest
from playwright.sync_api import expect

from readings.services.notes import note_create

from ..factories import PASSWORD, MembershipFactory, UserFactory
from .helpers import slow_reading

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reading(world, settings):
    """Four required passages of eleven words each (§2–§5). On screen, none counts as read (a slow pace)."""
    return slow_reading(world, settings, heading="Title line", passages=4)


def test_member_reads_half_and_the_facilitator_sees_who_is_in_progress(
    base_url, page, new_page, login, world, reading, screenshot
):
    MembershipFactory(group=world.group, user=UserFactory(username="absent", display_name="Absent Reader"))
    login(page, "member", PASSWORD)
    page.goto(f"{base_url}/sessions/{world.session.id}/read/")

    for position in (2, 3):
        page.locator(f"#p-{position}").get_by_role("button", name=f"Mark read: passage {position}").click()

    expect(page.locator("[data-progress] .progress-label")).to_have_text("50% read")
    screenshot(page, "reading-progress")
    page.reload()
    expect(page.locator("[data-progress] .progress-label")).to_have_text("50% read")
    expect(page.locator("[data-continue]")).to_contain_text("§3")

    lead = new_page()
    login(lead, "facilitator", PASSWORD)
    lead.goto(f"{base_url}/sessions/{world.session.id}/")
    members = lead.locator("[data-member-progress]")
    member = members.locator("tbody tr", has=lead.get_by_role("rowheader", name="Member", exact=True))
    absent = members.locator("tbody tr", has=lead.get_by_role("rowheader", name="Absent Reader", exact=True))
    expect(member).to_contain_text("50%")
    expect(member).to_contain_text("In progress")
    expect(absent).to_contain_text("Not opened")
    screenshot(lead, "brief-progress", full_page=True)


def test_passages_on_screen_long_enough_count_as_read(base_url, page, login, world, reading, settings):
    settings.READING_PACE_WORDS_PER_MINUTE = 3000  # eleven words: a fifth of a second
    settings.READING_CAP_SECONDS = 1
    login(page, "member", PASSWORD)

    page.goto(f"{base_url}/sessions/{world.session.id}/read/")
    page.locator("#p-5").scroll_into_view_if_needed()  # reading on down to the last passage

    expect(page.locator("[data-progress] .progress-label")).to_have_text("100% read")
    expect(page.locator("#p-5").get_by_role("button", name="Read: passage 5")).to_be_disabled()


def test_search_finds_passages_and_notes_but_never_anothers_private_note(
    base_url, page, login, world, reading, screenshot
):
    other = UserFactory(username="bea", display_name="Bea")
    MembershipFactory(group=world.group, user=other)
    note_create(author=world.member, passage=reading[3], body="Why the summer?", visibility="group")
    note_create(author=other, passage=reading[4], body="My private summer xylophone", visibility="private")
    login(page, "member", PASSWORD)

    page.goto(f"{base_url}/search/?q=summer")

    results = page.locator(".search-result")
    expect(page.get_by_role("status")).to_have_text("5 results")
    expect(results.locator("mark", has_text="summer").first).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("xylophone")
    screenshot(page, "search-results")
    results.filter(has_text="Why the").get_by_role("link").click()
    expect(page).to_have_url(f"{base_url}/sessions/{world.session.id}/read/#p-3")

    page.goto(f"{base_url}/search/?q=xylophone")
    expect(page.get_by_role("status")).to_have_text("0 results")
