"""Slow actions show that they are under way: the control is disabled and says so until the answer comes.

Each test holds the request in Playwright's router (no timing), checks the busy
state a person sees, then lets the request through and checks the page returns
to normal with the result.
"""

import pytest
from playwright.sync_api import expect

from readings.models import Note
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from sessions_app.models import RSVP

from ..factories import PASSWORD
from .helpers import annotate_selection, drag_select

pytestmark = pytest.mark.browser


class Held(list):
    """Requests held by `page.route`, released one by one with `release()`.

    The page shows its busy state before its request reaches the router, so `take()` lets Playwright
    deliver the held request first (it waits for the request, at most 10 s, and asserts nothing about time).
    """

    def __init__(self, page) -> None:
        super().__init__()
        self.page = page

    def __call__(self, route) -> None:
        self.append(route)

    def take(self):
        for _ in range(400):
            if self:
                break
            self.page.wait_for_timeout(25)  # lets Playwright's event loop hand over the routed request
        assert len(self) == 1, f"expected one request held, got {len(self)}"
        return self.pop()

    def release(self) -> None:
        self.take().continue_()


def test_rsvp_shows_it_is_sending_and_cannot_be_pressed_twice(world, page, login):
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/")
    held = Held(page)
    page.route("**/rsvp/", held)
    form = page.get_by_role("form", name=f"Your answer for {world.session.title}")
    counts = page.locator(f"#rsvp-{world.session.pk} .rsvp-counts")
    expect(counts).to_have_text("0 going · 0 maybe")

    form.get_by_role("button", name="Going").click()
    for name in ("Going", "Maybe", "Can't come"):
        expect(form.get_by_role("button", name=name)).to_be_disabled()
    expect(counts).to_have_text("Sending your answer…")
    expect(form).to_have_attribute("aria-busy", "true")
    held.release()

    expect(counts).to_have_text("1 going · 0 maybe")
    expect(form.get_by_role("button", name="Going")).to_have_attribute("aria-pressed", "true")
    for name in ("Going", "Maybe", "Can't come"):
        expect(form.get_by_role("button", name=name)).to_be_enabled()
    expect(form).not_to_have_attribute("aria-busy", "true")
    assert list(RSVP.objects.values_list("user__username", "status")) == [("member", "going")]


def test_rsvp_that_cannot_reach_the_server_is_no_longer_busy(world, page, login):
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/")
    held = Held(page)
    page.route("**/rsvp/", held)
    form = page.get_by_role("form", name=f"Your answer for {world.session.title}")
    counts = page.locator(f"#rsvp-{world.session.pk} .rsvp-counts")

    form.get_by_role("button", name="Maybe").click()
    expect(counts).to_have_text("Sending your answer…")
    held.take().abort("connectionrefused")

    expect(counts).to_have_text("0 going · 0 maybe")
    expect(form.get_by_role("button", name="Maybe")).to_be_enabled()
    expect(form).not_to_have_attribute("aria-busy", "true")
    assert not RSVP.objects.exists()


def test_saving_a_note_shows_saving_until_the_server_answers(world, page, login):
    text = text_import(
        group=world.group, created_by=world.organizer, content="Title\n\nLand, peace and bread.", title="Short"
    )
    passages = list(text.passages.order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=passages[0], end_passage=passages[-1])
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    held = Held(page)
    page.route("**/api/v1/notes/", lambda route: held(route) if route.request.method == "POST" else route.continue_())

    drag_select(page, "#p-2", "peace")
    annotate_selection(page)
    form = page.locator("#note-form")
    form.get_by_label("Your note").fill("Peace first.")
    form.get_by_role("button", name="Save note").click()
    busy = form.get_by_role("button", name="Saving…")
    expect(busy).to_be_disabled()
    expect(form).to_have_attribute("aria-busy", "true")
    assert not Note.objects.exists()
    held.release()

    expect(page.locator("#p-2 .note-card", has_text="Peace first.")).to_be_visible()
    expect(form).to_be_hidden()
    assert list(Note.objects.values_list("body", flat=True)) == ["Peace first."]


def test_a_note_that_cannot_be_saved_is_kept_and_can_be_sent_again(world, page, login):
    text = text_import(
        group=world.group, created_by=world.organizer, content="Title\n\nLand, peace and bread.", title="Short"
    )
    passages = list(text.passages.order_by("position"))
    assignment_create(session=world.session, text=text, start_passage=passages[0], end_passage=passages[-1])
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    held = Held(page)
    page.route("**/api/v1/notes/", lambda route: held(route) if route.request.method == "POST" else route.continue_())

    drag_select(page, "#p-2", "bread")
    annotate_selection(page)
    form = page.locator("#note-form")
    form.get_by_label("Your note").fill("Bread last.")
    form.get_by_role("button", name="Save note").click()
    expect(form.get_by_role("button", name="Saving…")).to_be_disabled()
    held.take().abort("connectionrefused")

    save = form.get_by_role("button", name="Save note")
    expect(save).to_be_enabled()
    expect(form).to_have_attribute("aria-busy", "false")
    expect(form.get_by_label("Your note")).to_have_value("Bread last.")
    expect(form).to_contain_text("Could not reach the server")
    page.unroute("**/api/v1/notes/")
    save.click()
    expect(page.locator("#p-2 .note-card", has_text="Bread last.")).to_be_visible()
    assert list(Note.objects.values_list("body", flat=True)) == ["Bread last."]
