"""Resource limits: passages per text, note bodies, Markdown brackets, long descriptions.

Each is a setting; past it the API answers 400 naming the field and stores nothing.
Super-linear work is guarded by counting operations at n and 4n, never by a clock.
"""

import sys

import pytest

from readings.models import Note, Passage, Text, TextRevision
from readings.parsing import TextImportError, parse_document
from readings.rendering import render_markdown
from readings.services.importing import text_import

from .conftest import at

pytestmark = pytest.mark.django_db

# The attack of the issue: one-line "a) H" items, each a passage of its own.
ITEMS = "".join(f"{letter}) H\n" for letter in "abcdefghijklmnopqrstuvwxyz" * 4)


# --- Passages per text -------------------------------------------------------------------------


def test_text_that_splits_into_more_passages_than_the_limit_is_a_400_and_stores_nothing(world, api, settings):
    settings.TEXT_MAX_PASSAGES = 50

    response = api(world.organizer).post("/api/v1/texts/", {"group": world.group.id, "content": ITEMS}, format="json")

    message = (
        "The text splits into 104 passages; the limit is 50. "
        "Split it into parts, or check that its paragraphs are separated by blank lines."
    )
    assert response.status_code == 400
    assert response.json() == {"detail": f"content: {message}", "errors": {"content": [message]}}
    assert (Text.objects.count(), Passage.objects.count(), TextRevision.objects.count()) == (0, 0, 0)


def test_revision_over_the_passage_limit_is_a_400_and_leaves_the_text_as_it_was(world, api, settings):
    text = text_import(group=world.group, created_by=world.organizer, content="Title\n\nOne.\n\nTwo.")
    settings.TEXT_MAX_PASSAGES = 50

    response = api(world.organizer).post(f"/api/v1/texts/{text.pk}/revisions/", {"content": ITEMS}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["content"]
    assert response.json()["errors"]["content"][0].startswith("The text splits into 104 passages; the limit is 50.")
    text.refresh_from_db()
    assert (text.revision, list(text.passages.values_list("body", flat=True))) == (1, ["Title", "One.", "Two."])


def test_text_at_the_passage_limit_imports(world, api, settings):
    settings.TEXT_MAX_PASSAGES = 104

    response = api(world.organizer).post("/api/v1/texts/", {"group": world.group.id, "content": ITEMS}, format="json")

    assert (response.status_code, response.json()["passage_count"]) == (201, 104)


def test_parser_refuses_too_many_blocks_before_analysing_any():
    reports = []

    with pytest.raises(TextImportError, match="splits into 104 passages; the limit is 10"):
        parse_document(ITEMS, "txt", max_blocks=10, on_progress=lambda done, total: reports.append(done))

    assert reports == []  # the per-block analysis (the costly part) never started


def test_default_passage_limit_leaves_room_for_a_whole_5_mb_book(settings):
    # A 5 MB text of the sample essay's paragraphs makes 13,561 passages (bench/import.py).
    assert settings.TEXT_MAX_PASSAGES == 25_000


# --- Note bodies ---------------------------------------------------------------------------------


def test_note_edit_over_the_body_limit_is_a_400_and_keeps_the_note(world, api, essay, settings):
    settings.NOTE_BODY_MAX_CHARS = 100
    note = api(world.member).post("/api/v1/notes/", {"passage": at(essay, 12).pk, "body": "Short."}, format="json")

    response = api(world.member).patch(f"/api/v1/notes/{note.json()['id']}/", {"body": "y" * 101}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "body: The note is 101 characters long; the limit is 100."
    assert Note.objects.get().body == "Short."


def test_the_admin_shows_a_note_body_but_does_not_change_it(world, client, essay):
    from sessions_app.models import User

    note = Note.objects.create(
        author=world.member, passage=at(essay, 12), body="As written.", body_html="<p>As written.</p>"
    )
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    form = client.get(f"/admin/readings/note/{note.pk}/change/").context["adminform"].form

    assert "body" not in form.fields


# --- Markdown: brackets ------------------------------------------------------------------------


def _calls(render, source: str) -> int:
    """Python function calls made while rendering `source`: a measure of work that no clock disturbs."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        render(source)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("unit", ["[", "![", "[\n", "[a]("])
def test_markdown_work_grows_linearly_with_brackets(unit):
    small, large = _calls(render_markdown, unit * 250), _calls(render_markdown, unit * 1000)

    assert large / small < 4.6


def test_a_bracket_costs_the_note_renderer_a_bounded_number_of_steps():
    # Each "[" runs the inline rules once per nesting level the label scan descends (maxNesting); at
    # js-default's 100 levels a "![" took some 1,250 calls, at the 20 notes use about a fifth of that.
    per_bracket = _calls(render_markdown, "![" * 1000) / 1000

    assert per_bracket < 400


def test_note_with_more_brackets_than_the_limit_is_a_400(world, api, essay, settings):
    settings.MARKDOWN_MAX_BRACKETS = 100
    passage = at(essay, 12)

    over = api(world.member).post("/api/v1/notes/", {"passage": passage.pk, "body": "[" * 101}, format="json")
    at_limit = api(world.member).post("/api/v1/notes/", {"passage": passage.pk, "body": "[a]" * 100}, format="json")
    edit = api(world.member).patch(f"/api/v1/notes/{at_limit.json()['id']}/", {"body": "![" * 101}, format="json")

    message = (
        "The note has 101 “[” brackets; the limit is 100, because each one makes the Markdown reader "
        "look for a link. Remove some of them."
    )
    assert over.status_code == 400
    assert over.json() == {"detail": f"body: {message}", "errors": {"body": [message]}}
    assert at_limit.status_code == 201
    assert (edit.status_code, edit.json()["errors"]) == (400, {"body": [message]})
    assert list(Note.objects.values_list("body", flat=True)) == ["[a]" * 100]


def test_markdown_text_with_more_brackets_than_the_limit_is_a_400(world, api, settings):
    settings.MARKDOWN_MAX_BRACKETS = 100

    response = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "content": "# T\n\n" + "[" * 101, "format": "md"}, format="json"
    )
    plain = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "content": "T\n\n" + "[" * 101, "format": "txt"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "content": [
            "The text has 101 “[” brackets; the limit is 100, because each one makes the Markdown reader "
            "look for a link. Remove some of them."
        ]
    }
    assert plain.status_code == 201  # plain text is not read as Markdown


# --- Descriptions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/sessions/", {"title": "T", "starts_at": "2030-01-01T10:00Z", "ends_at": "2030-01-01T11:00Z"},
         "description"),
        ("/api/v1/groups/", {"name": "Circle"}, "description"),
        ("/api/v1/sessions/{session}/questions/", {"prompt": "Why?"}, "facilitator_notes"),
    ],
)  # fmt: skip
def test_description_over_the_limit_is_a_400(world, api, settings, path, body, field):
    long = "word " * 2001  # 10,005 characters; the default limit is 10,000

    response = api(world.organizer).post(
        path.format(session=world.session.pk), {"group": world.group.pk, **body, field: long}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["Ensure this field has no more than 10000 characters."]}
