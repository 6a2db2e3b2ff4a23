"""The reading view in a browser: offsets past astral characters, replies, edits, deletes, re-attaching."""

import pytest
from playwright.sync_api import expect

from readings.enums import AnchorState
from readings.models import Note
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

from ..factories import PASSWORD
from .helpers import annotate_selection, drag_select

pytestmark = pytest.mark.browser

# An emoji and a mathematical letter are one code point each but two UTF-16 units.
ASTRAL = "Title\n\n🙂 The “dictatorship” of the proletariat, 𝔄 and 🙂🙂 its ‘allies’ in the country."


@pytest.fixture
def astral_text(world):
    text = text_import(group=world.group, created_by=world.organizer, content=ASTRAL, title="Astral")
    passages = {p.position: p for p in text.passages.filter(retired=False)}
    assignment_create(session=world.session, text=text, start_passage=passages[1], end_passage=passages[2])
    return passages[2]


def test_selection_after_emoji_is_sent_in_code_points(world, astral_text, page, login):
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")

    for phrase, body in (("dictatorship", "After one emoji."), ("its ‘allies’", "After five astral characters.")):
        drag_select(page, "#p-2", phrase)
        annotate_selection(page)
        form = page.locator("#note-form")
        expect(form.locator("[data-quote]")).to_have_text(phrase)
        form.get_by_label("Your note").fill(body)
        form.get_by_role("button", name="Save note").click()
        expect(page.locator("#p-2 .note-card", has_text=body)).to_be_visible()
        note = Note.objects.get(body=body)
        start = astral_text.body.index(phrase)  # a Python index: code points
        assert (note.selector["start"], note.selector["end"], note.selector["exact"]) == (
            start,
            start + len(phrase),
            phrase,
        )

    page.reload()
    expect(page.locator("#p-2 mark.hl")).to_have_text(["dictatorship", "its ‘allies’"])


def test_reply_edit_delete_and_reattach(world, astral_text, page, login):
    body = astral_text.body
    start = body.index("proletariat")
    note = note_create(
        author=world.member,
        passage=astral_text,
        body="First thought.",
        visibility="group",
        selector={"start": start, "end": start + len("proletariat"), "exact": "proletariat"},
    )
    orphan = note_create(author=world.member, passage=astral_text, body="Lost words.", visibility="group")
    allies = body.index("allies")
    Note.objects.filter(pk=orphan.pk).update(
        anchor_state=AnchorState.ORPHANED,
        selector={"start": 0, "end": 6, "exact": "allies", "prefix": "", "suffix": ""},
        candidates=[
            {"passage": astral_text.pk, "anchor": astral_text.anchor, "position": 2, "start": allies, "end": allies + 6}
        ],
    )
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")
    card = page.locator(f"#note-{note.pk}")
    page.once("dialog", lambda dialog: dialog.accept())

    # Reply
    card.get_by_role("button", name="Reply").click()
    form = page.locator("#note-form")
    expect(form.get_by_role("heading")).to_have_text("Reply to your note")
    form.get_by_label("Your note").fill("A reply.")
    form.get_by_role("button", name="Send reply").click()
    expect(page.locator(f"#note-{note.pk} .replies")).to_contain_text("A reply.")

    # Edit: the form opens with the note's text, audience and tags; an error keeps the typing.
    page.locator(f"#note-{note.pk}").get_by_role("button", name="Edit", exact=True).click()
    expect(form.get_by_label("Your note")).to_have_value("First thought.")
    expect(form.get_by_label("The group", exact=True)).to_be_checked()
    form.get_by_label("Tags").fill("a/b")
    form.get_by_label("Your note").fill("Second thought.")
    form.get_by_role("button", name="Save changes").click()
    expect(form.locator("#note-tags-error")).to_contain_text("is not a tag")
    expect(form.get_by_label("Your note")).to_have_value("Second thought.")
    form.get_by_label("Tags").fill("class, state")
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator(f"#note-{note.pk} > .note-body")).to_have_text("Second thought.")
    expect(page.locator(f"#note-{note.pk} > .tags li")).to_have_text(["#class", "#state"])

    # Delete: with a reply, the note stays as "(deleted)".
    page.locator(f"#note-{note.pk}").get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(f"#note-{note.pk} > .deleted-note")).to_have_text("(deleted)")
    expect(page.locator("#p-2 mark.hl")).to_have_count(0)

    # Re-attach the orphan where its words now are.
    orphans = page.locator("#orphans")
    expect(orphans.get_by_role("heading", name="Notes whose words changed")).to_be_visible()
    orphans.get_by_role("button", name="Re-attach your note to passage 2").click()
    expect(page.locator("#p-2 mark.hl")).to_have_text("allies")
    expect(page.locator("#orphans")).to_be_hidden()
    orphan.refresh_from_db()
    assert (orphan.anchor_state, orphan.selector["start"], orphan.selector["exact"]) == ("anchored", allies, "allies")


def test_a_reply_to_a_reply_nests_under_it_from_the_keyboard(world, astral_text, page, login):
    note = note_create(author=world.facilitator, passage=astral_text, body="A claim.", visibility="group")
    answer = note_create(author=world.organizer, passage=astral_text, body="An answer.", parent=note)
    login(page, "member", PASSWORD)
    page.goto(f"/sessions/{world.session.pk}/read/")

    page.get_by_role("button", name=f"Reply to {world.organizer.name}’s reply").focus()
    page.keyboard.press("Enter")
    form = page.locator("#note-form")
    expect(form.get_by_role("heading")).to_have_text(f"Reply to {world.organizer.name}")
    expect(form.get_by_label("Your note")).to_be_focused()
    page.keyboard.type("To the answer.")
    page.keyboard.press("Control+Enter")

    deeper = page.locator(f"#note-{answer.pk} > .replies > .reply", has_text="To the answer.")
    expect(deeper).to_be_focused()
    reply = Note.objects.get(body="To the answer.")
    assert (reply.parent_id, reply.root_id) == (answer.pk, note.pk)
