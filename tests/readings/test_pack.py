"""The session pack: JSON per role, the other formats, ETag/304 and constant query counts."""

import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.models import Note, NoteMention, NoteTag
from readings.pack import builder, formats, typesetting
from readings.pack.builder import build_pack, pack_scope
from readings.services.assignments import assignment_create
from readings.services.importing import text_import, text_revise
from readings.services.notes import note_create, note_set_hidden, note_update
from readings.services.questions import question_create, question_decide, question_update, questions_reorder
from sessions_app.selectors import membership_for

from ..conftest import service_unavailable
from ..factories import MembershipFactory, SessionFactory, UserFactory
from .conftest import at, pack_response

pytestmark = pytest.mark.django_db

NOTE_KEYS = {
    "id",
    "author",
    "body",
    "body_html",
    "visibility",
    "selector",
    "anchor_state",
    "question",
    "tags",
    "hidden",
    "highlight",
    "mentions",
    "helpful_count",
    "replies",
}


def pack_url(world, fmt: str | None = None) -> str:
    return f"/api/v1/sessions/{world.session.id}/pack/" + (f"?format={fmt}" if fmt else "")


def all_notes(pack: dict) -> dict[str, dict]:
    """Every note in the pack by body, replies included."""
    found = {}

    def walk(notes):
        for note in notes:
            found[note["body"]] = note
            walk(note["replies"])

    for reading in pack["readings"]:
        for passage in reading["passages"]:
            walk(passage["notes"])
        walk(reading["orphaned_notes"])
    return found


@pytest.fixture
def member_b(world):
    user = UserFactory(username="member_b")
    MembershipFactory(group=world.group, user=user)
    return user


@pytest.fixture
def discussed(world, essay, reading, member_b):
    """Questions and notes of every kind on the essay's passages 10–25."""
    twelve = at(essay, 12)
    start = twelve.body.index("hungry for land")
    selector = {"start": start, "end": start + 15, "exact": "hungry for land"}
    question = question_create(
        session=world.session,
        author=world.organizer,
        prompt="Why did the peasants follow the Bolsheviks?",
        kind="opening",
        passages=[twelve],
        minutes=10,
        facilitator_notes="Start from §12.",
    )
    question_create(session=world.session, author=member_b, prompt="A proposal", propose=True)
    b_note = note_create(author=member_b, passage=twelve, body="B: group", visibility="group", selector=selector)
    note_create(author=world.member, passage=twelve, body="A: private", visibility="private")
    note_create(author=world.member, passage=twelve, body="A: facilitators", visibility="facilitators")
    note_create(author=world.member, passage=twelve, body="A: reply", parent=b_note)
    hidden = note_create(author=member_b, passage=at(essay, 13), body="B: hidden", visibility="group")
    note_set_hidden(note=hidden, hidden=True, by=world.organizer)
    note_create(author=member_b, passage=at(essay, 2), body="B: outside the reading", visibility="group")
    note_create(author=member_b, passage=at(essay, 14), body="B: answer", visibility="group", question=question)
    return {"question": question, "b_note": b_note}


def test_pack_has_exactly_the_contract_fields(world, api, discussed):
    pack = api(world.member).get(pack_url(world)).json()

    assert set(pack) == {"session", "group", "readings", "questions", "reading_minutes", "generated_at", "version"}
    [reading] = pack["readings"]
    assert set(reading) == {"text", "required", "instructions", "reading_minutes", "passages", "orphaned_notes"}
    assert set(reading["text"]) == {"id", "title", "author", "source"}
    assert set(reading["passages"][0]) == {"id", "anchor", "position", "kind", "section", "body", "footnotes", "notes"}
    assert all(set(note) == NOTE_KEYS for note in all_notes(pack).values())
    assert set(pack["questions"][0]) == {"id", "number", "position", "prompt", "kind", "passages", "minutes"}
    assert [p["position"] for p in reading["passages"]] == list(range(10, 26))
    assert pack["reading_minutes"] == reading["reading_minutes"] == world.session.readings.get().reading_minutes


def test_pack_content_for_the_member_who_wrote_the_notes(world, api, discussed):
    pack = api(world.member).get(pack_url(world)).json()

    notes = all_notes(pack)
    assert set(notes) == {"B: group", "A: private", "A: facilitators", "A: reply", "B: answer"}
    twelve = next(p for p in pack["readings"][0]["passages"] if p["position"] == 12)
    assert [n["body"] for n in twelve["notes"]] == ["B: group", "A: private", "A: facilitators"]
    assert [r["body"] for r in twelve["notes"][0]["replies"]] == ["A: reply"]
    assert twelve["notes"][0]["selector"]["exact"] == "hungry for land"
    assert [q["prompt"] for q in pack["questions"]] == ["Why did the peasants follow the Bolsheviks?"]
    assert pack["questions"][0]["passages"] == [twelve["id"]]


def test_pack_for_another_member_never_holds_a_private_note(world, api, discussed, member_b):
    pack = api(member_b).get(pack_url(world)).json()

    assert set(all_notes(pack)) == {"B: group", "A: reply", "B: answer", "B: hidden"}
    assert "A: private" not in json.dumps(pack)


def test_pack_holds_the_authors_own_hidden_note_marked_hidden(world, api, discussed, member_b):
    own = all_notes(api(member_b).get(pack_url(world)).json())
    others = all_notes(api(world.member).get(pack_url(world)).json())

    assert (own["B: hidden"]["hidden"], own["B: group"]["hidden"]) == (True, False)
    assert "B: hidden" not in others
    assert "- **[2]** B: hidden — *Member\\_B* (hidden by an organizer)" in (
        api(member_b).get(pack_url(world, "md")).content.decode()
    )
    assert "— Member_B · hidden by an organizer</span>" in api(member_b).get(pack_url(world, "html")).content.decode()


def test_pack_for_facilitators_has_facilitator_notes_and_facilitators_notes(world, api, discussed):
    pack = api(world.facilitator).get(pack_url(world)).json()

    assert set(all_notes(pack)) == {"B: group", "A: facilitators", "A: reply", "B: answer"}
    assert pack["questions"][0]["facilitator_notes"] == "Start from §12."


def test_pack_puts_orphaned_notes_apart_and_leaves_retired_passages_out(world, api, essay, discussed):
    thirteen = at(essay, 13)
    note_create(author=world.member, passage=thirteen, body="on a paragraph that goes", visibility="group")
    text_revise(text=essay, created_by=None, content=essay.full_text.replace(thirteen.body + "\n\n", ""))

    pack = api(world.member).get(pack_url(world)).json()

    [reading] = pack["readings"]
    assert thirteen.id not in [p["id"] for p in reading["passages"]]
    assert [n["body"] for n in reading["orphaned_notes"]] == ["on a paragraph that goes"]
    assert reading["orphaned_notes"][0]["anchor_state"] == "orphaned"


def test_pack_shows_a_passage_of_overlapping_readings_once_in_the_first(world, api, essay, reading):
    assignment_create(session=world.session, text=essay, start_passage=at(essay, 20), end_passage=at(essay, 30))
    note_create(author=world.member, passage=at(essay, 22), body="in both ranges", visibility="group")

    pack = api(world.member).get(pack_url(world)).json()

    first, second = pack["readings"]
    assert [p["position"] for p in first["passages"]] == list(range(10, 26))
    assert [p["position"] for p in second["passages"]] == list(range(26, 31))
    assert [n["body"] for r in pack["readings"] for p in r["passages"] for n in p["notes"]] == ["in both ranges"]


def test_pack_respects_post_before_you_peek(world, api, discussed, member_b, essay):
    world.session.post_before_peek = True
    world.session.save()
    newcomer = UserFactory(username="newcomer")
    MembershipFactory(group=world.group, user=newcomer)

    before = set(all_notes(api(newcomer).get(pack_url(world)).json()))
    note_create(author=newcomer, passage=at(essay, 12), body="N: mine", visibility="private")
    after = set(all_notes(api(newcomer).get(pack_url(world)).json()))

    assert before == set()
    assert after == {"N: mine", "B: group", "A: reply"}


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension", "disposition"),
    [
        ("md", "text/markdown; charset=utf-8", "md", "attachment"),
        ("html", "text/html; charset=utf-8", "html", "inline"),
        ("pdf", "application/pdf", "pdf", "attachment"),
        ("epub", "application/epub+zip", "epub", "attachment"),
    ],
)
def test_each_format_has_its_content_type_and_file_name(
    world, api, discussed, fmt, content_type, extension, disposition
):
    response = pack_response(api, world.member, world, fmt)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    day = world.session.starts_at.astimezone(ZoneInfo(world.session.timezone))
    assert response["Content-Disposition"] == f'{disposition}; filename="october-week-one-{day:%Y-%m-%d}.{extension}"'


def test_session_lists_pack_urls_for_every_format(world, api):
    urls = api(world.member).get(f"/api/v1/sessions/{world.session.id}/").json()["pack_urls"]

    base = f"http://127.0.0.1:8000/api/v1/sessions/{world.session.id}"
    assert urls == {
        "json": f"{base}/pack/",
        "md": f"{base}/pack/?format=md",
        "html": f"{base}/pack/?format=html",
        "pdf": f"{base}/pack/?format=pdf",
        "epub": f"{base}/pack/?format=epub",
        "ics": f"{base}/calendar.ics",
    }


def test_markdown_has_passages_notes_and_questions(world, api, discussed):
    text = api(world.member).get(pack_url(world, "md")).content.decode()

    assert "# October, week one" in text
    assert "**§12** It was supported by the poor peasants" in text
    assert "- **[1]** “hungry for land” B: group — *Member\\_B*" in text
    assert "    - ↳ A: reply — *Member*" in text
    assert "1. Why did the peasants follow the Bolsheviks? *(opening · 10 min · §12)*" in text
    assert "Start from §12." not in text


def test_every_format_numbers_questions_among_the_accepted_and_says_which_question_a_note_answers(
    world, api, essay, discussed, member_b
):
    # After the proposal: third in the session's order, the second accepted question.
    later = question_create(session=world.session, author=world.organizer, prompt="What came after October?")
    note_create(author=member_b, passage=at(essay, 15), body="B: later answer", visibility="group", question=later)
    client = api(world.member)

    pack = client.get(pack_url(world)).json()
    assert [(q["number"], q["position"], q["prompt"]) for q in pack["questions"]] == [
        (1, 1, "Why did the peasants follow the Bolsheviks?"),
        (2, 3, "What came after October?"),
    ]
    markdown = client.get(pack_url(world, "md")).content.decode()
    assert "2. What came after October? *(discussion)*" in markdown
    assert re.search(r"- \*\*\[\d+\]\*\* \*Answers question 2:\* B: later answer — \*Member\\_B\*", markdown)
    assert re.search(r"- \*\*\[\d+\]\*\* \*Answers question 1:\* B: answer — ", markdown)
    page = client.get(pack_url(world, "html")).content.decode()
    assert '<li id="question-2" value="2">\n        <p class="prompt">What came after October?</p>' in page
    assert re.search(
        r'<span class="answers">Answers <a href="#question-2">question 2</a>:</span>\s*<p>B: later answer</p>', page
    )
    book = zipfile.ZipFile(io.BytesIO(pack_response(api, world.member, world, "epub").content))
    questions = book.read("EPUB/questions.xhtml").decode()
    assert re.search(r'<li id="question-2" value="2">\s*<p>What came after October\?</p>', questions)
    notes = book.read("EPUB/notes.xhtml").decode()
    assert re.search(r'Answers <a href="questions.xhtml#question-2">question 2</a>: </p>\s*<p>B: later answer', notes)
    printed = [
        note
        for reading in typesetting.pdf_document(pack)["readings"]
        for p in reading["passages"]
        for note in p["notes"]
    ]
    assert [note["answers"] for note in printed if note["answers"]] == ["Answers question 1:", "Answers question 2:"]


def test_printable_html_marks_quoted_words_numbers_passages_and_refers_questions_to_them(world, api, essay, discussed):
    page = api(world.member).get(pack_url(world, "html")).content.decode()
    twelve = at(essay, 12)

    anchor = f"t{essay.id}-{twelve.anchor}"
    assert f'<p class="passage" id="{anchor}"><a class="num" href="#{anchor}">§12</a>' in page
    b_note = discussed["b_note"].id
    private, facilitators = (
        n.id for n in Note.objects.filter(passage=twelve, parent=None, body__startswith="A: ").order_by("id")
    )
    assert (
        f'<mark class="quoted">hungry for land</mark><sup class="note-refs">'
        f'<a class="note-ref" href="#note-{b_note}" id="ref-{b_note}">1</a></sup>'
    ) in page
    # The two notes on the whole passage: separate numbers at its end, as in the note list.
    assert (
        f'<sup class="note-refs"><a class="note-ref" href="#note-{private}" id="ref-{private}">2</a>,'
        f'<a class="note-ref" href="#note-{facilitators}" id="ref-{facilitators}">3</a></sup></p>'
    ) in page
    assert f'<li class="note" id="note-{facilitators}" value="3">' in page
    assert f'on <a href="#{anchor}">§12</a>' in page
    assert '<blockquote class="passage quotation"' in page
    assert "A: private" in page
    assert "Start from §12." not in page


def test_epub_is_a_valid_zip_with_mimetype_first_and_the_passages_inside(world, api, discussed):
    data = pack_response(api, world.member, world, "epub").content

    archive = zipfile.ZipFile(io.BytesIO(data))
    first = archive.infolist()[0]
    reading = archive.read("EPUB/reading-1.xhtml").decode()
    notes = archive.read("EPUB/notes.xhtml").decode()
    assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    assert archive.read("mimetype") == b"application/epub+zip"
    assert "It was supported by the working class" in reading
    assert 'epub:type="endnote"' in notes
    assert "B: group" in notes
    assert "EPUB/nav.xhtml" in archive.namelist()


@pytest.mark.slow
def test_epub_passes_epubcheck(world, api, discussed, tmp_path):
    jar = "/usr/share/java/epubcheck.jar"
    if not shutil.which("java") or not os.path.exists(jar):
        service_unavailable("epubcheck", "install epubcheck (.ci/system-packages does)")
    book = tmp_path / "pack.epub"
    book.write_bytes(pack_response(api, world.member, world, "epub").content)

    result = subprocess.run(["java", "-jar", jar, str(book)], capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors or warnings detected." in result.stdout


# --- ETag, 304 and caching ---------------------------------------------------------------------


def etag(api, user, world) -> str:
    response = api(user).get(pack_url(world))
    assert response["Cache-Control"] == "private"
    return response["ETag"]


def test_etag_is_the_version_and_a_match_is_a_304_with_no_body(world, api, discussed):
    first = api(world.member).get(pack_url(world))
    again = api(world.member).get(pack_url(world), HTTP_IF_NONE_MATCH=first["ETag"])
    weak = api(world.member).get(pack_url(world, "pdf"), HTTP_IF_NONE_MATCH=f'W/{first["ETag"]}, "other"')

    assert first["ETag"] == f'"{first.json()["version"]}"'
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])
    assert weak.status_code == 304


def test_304_is_answered_without_building_the_pack(world, api, discussed, monkeypatch, django_assert_num_queries):
    tag = etag(api, world.member, world)
    monkeypatch.setattr("readings.api.views.build_pack", lambda **kwargs: pytest.fail("built the pack"))

    # One read of the session with its group and the membership, whose counters make the version (a GET
    # opens no transaction: core/transactions.py).
    with django_assert_num_queries(1):
        response = api(world.member).get(pack_url(world), HTTP_IF_NONE_MATCH=tag)

    assert response.status_code == 304


@pytest.mark.parametrize(
    "change",
    ["new group note", "edited group note", "deleted group note", "edited question", "rescheduled", "hidden note"],
)
def test_etag_changes_when_anything_the_user_sees_changes(world, api, essay, discussed, member_b, change):
    before = etag(api, world.member, world)
    b_note: Note = discussed["b_note"]
    if change == "new group note":
        note_create(author=member_b, passage=at(essay, 15), body="new", visibility="group")
    elif change == "edited group note":
        api(member_b).patch(f"/api/v1/notes/{b_note.id}/", {"body": "edited"}, format="json")
    elif change == "deleted group note":
        note = note_create(author=member_b, passage=at(essay, 15), body="short-lived", visibility="group")
        assert etag(api, world.member, world) != before
        before = etag(api, world.member, world)
        api(member_b).delete(f"/api/v1/notes/{note.id}/")
    elif change == "edited question":
        api(world.organizer).patch(
            f"/api/v1/sessions/{world.session.id}/questions/{discussed['question'].id}/", {"minutes": 12}, format="json"
        )
    elif change == "rescheduled":
        new_start = world.session.starts_at + timedelta(hours=1)
        api(world.organizer).patch(
            f"/api/v1/sessions/{world.session.id}/",
            {"starts_at": new_start.isoformat(), "ends_at": (new_start + timedelta(hours=1)).isoformat()},
            format="json",
        )
    else:
        note_set_hidden(note=b_note, hidden=True, by=world.organizer)

    assert etag(api, world.member, world) != before


def test_etag_does_not_change_when_someone_elses_private_note_changes(world, api, essay, discussed, member_b):
    before = etag(api, world.member, world)

    private = note_create(author=member_b, passage=at(essay, 12), body="B: secret", visibility="private")
    api(member_b).patch(f"/api/v1/notes/{private.id}/", {"body": "B: secret, edited"}, format="json")
    api(member_b).delete(f"/api/v1/notes/{private.id}/")
    note_create(author=member_b, passage=at(essay, 12), body="B: another secret", visibility="private")

    assert etag(api, world.member, world) == before
    assert etag(api, member_b, world) != etag(api, world.member, world)


def test_markdown_is_rendered_once_per_version(world, api, discussed, monkeypatch):
    calls = []
    real = formats.markdown
    monkeypatch.setattr(formats, "markdown", lambda pack: calls.append(pack["version"]) or real(pack))
    cache.clear()

    first = api(world.member).get(pack_url(world, "md"))
    second = api(world.member).get(pack_url(world, "md"))
    note_create(author=world.member, passage=discussed["b_note"].passage, body="changes it", visibility="group")
    third = api(world.member).get(pack_url(world, "md"))

    assert first.content == second.content
    assert len(calls) == 2
    assert third["ETag"] != first["ETag"]


def test_pack_errors_are_json_whatever_the_format(world, api, discussed):
    outsider = api(world.outsider).get(pack_url(world, "pdf"))
    anonymous = api(None).get(pack_url(world, "epub"))
    unknown = api(world.member).get(pack_url(world, "docx"))

    assert (outsider.status_code, outsider["Content-Type"]) == (404, "application/json")
    assert (anonymous.status_code, anonymous.json()["detail"]) == (401, "Authentication credentials were not provided.")
    assert unknown.status_code == 404


# --- Query counts ------------------------------------------------------------------------------


def _session_with(world, passages: int, notes: int):
    text = text_import(
        group=world.group,
        created_by=None,
        content="Title\n\n" + "\n\n".join(f"Paragraph {n} has some words in it." for n in range(passages)),
    )
    first, last = text.passages.get(position=2), text.passages.get(position=passages + 1)
    assignment_create(session=world.session, text=text, start_passage=first, end_passage=last)
    bodies = list(text.passages.filter(position__gte=2))
    Note.objects.bulk_create(
        [
            Note(
                author=world.member if n % 2 else world.facilitator,
                passage=bodies[n % len(bodies)],
                body=f"note {n}",
                body_html=f"<p>note {n}</p>",
                visibility="group",
                selector={"start": 0, "end": 9, "exact": "Paragraph", "prefix": "", "suffix": " "},
            )
            for n in range(notes)
        ]
    )


@pytest.mark.parametrize(("passages", "notes"), [(5, 10), (100, 10), (5, 500), (100, 500)])
def test_pack_query_count_is_constant(world, api, passages, notes, django_assert_num_queries):
    _session_with(world, passages, notes)
    NoteMention.objects.bulk_create(
        [NoteMention(note=note, user=world.organizer, notified=True) for note in Note.objects.all()[::2]]
    )

    # One of them reads the notes' tags and whom they mention, by name; the session before (whose summary it
    # shows) comes with the session, its group and the membership, in the scope's one read; the questions come
    # with their passages.
    # A GET opens no transaction (core/transactions.py).
    with django_assert_num_queries(7):
        pack = api(world.member).get(pack_url(world)).json()

    assert len(pack["readings"][0]["passages"]) == passages
    assert len(all_notes(pack)) == notes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_scope_finds_the_session_before_once_not_again_for_each_session_of_the_group(world):
    """The pack's scope joins the session before (whose summary the pack shows) through subqueries that look the
    session up by its id: PostgreSQL runs each once (InitPlan), where a subquery on the outer row ran again for
    every session of the group (SubPlan, the join's filter)."""
    for weeks in range(1, 6):
        SessionFactory(group=world.group, starts_at=world.session.starts_at - timedelta(weeks=weeks))
    sql, params = builder._SCOPE.build(None, [world.session.pk, world.member.pk]).query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "InitPlan" in plan
    assert "SubPlan" not in plan, plan


def _discussed_session(world, notes: int):
    """`notes` notes on 20 passages that give the brief work: asking ones, answers, helpful marks, tags, replies."""
    _session_with(world, 20, notes)
    questions = [question_create(session=world.session, author=world.organizer, prompt=f"Q{n}?") for n in range(3)]
    rows = list(Note.objects.order_by("id"))
    for n, note in enumerate(rows):
        note.body += "?" if n % 4 == 0 else ""
        note.helpful_count = n % 3
        note.question = questions[n % 3] if n % 5 == 0 else None
    Note.objects.bulk_update(rows, ["body", "helpful_count", "question"])
    NoteTag.objects.bulk_create([NoteTag(note=note, name="confused") for note in rows[1::6]])
    Note.objects.bulk_create(
        [
            Note(
                author=world.organizer,
                passage_id=parent.passage_id,
                parent=parent,
                root=parent,
                body="a reply",
                body_html="<p>a reply</p>",
                visibility="group",
            )
            for parent in rows[::3]
        ]
    )


def _pack_queries(user, world) -> tuple[int, dict]:
    scope = pack_scope(user=user, session=world.session, membership=membership_for(user, world.group.pk))
    with CaptureQueriesContext(connection) as queries:
        pack = build_pack(scope)
    return len(queries.captured_queries), pack


def test_the_organizers_pack_costs_the_same_queries_for_n_and_4n_notes_and_the_brief_adds_two(world):
    """The brief is made from the notes the pack loaded: its queries do not grow with the notes (n vs 4n), and
    it adds only its questions' and the members' progress to what a member's pack of the session costs."""
    _discussed_session(world, 40)
    few, small = _pack_queries(world.organizer, world)
    Note.objects.all().delete()
    _discussed_session(world, 160)
    many, large = _pack_queries(world.organizer, world)
    member, _ = _pack_queries(world.member, world)

    assert few == many
    assert many <= member + 2
    assert small["brief"]["stuck"]
    assert large["brief"]["most_replied"]
    assert large["brief"]["most_helpful"]
    assert sum(len(q["answers"]) for q in large["brief"]["questions"]) > sum(
        len(q["answers"]) for q in small["brief"]["questions"]
    )


@pytest.mark.parametrize("fmt", ["md", "html", "epub"])
def test_replies_to_replies_are_in_every_format(world, api, reading, fmt):
    passage = reading.start_passage
    root = note_create(author=world.member, passage=passage, body="root note", visibility="group")
    reply = note_create(author=world.facilitator, passage=passage, body="first reply", parent=root)
    note_create(author=world.member, passage=passage, body="second-level reply", parent=reply)

    body = pack_response(api, world.organizer, world, fmt).content
    if fmt == "epub":
        body = zipfile.ZipFile(io.BytesIO(body)).read("EPUB/notes.xhtml")

    text = body.decode()
    assert "first reply" in text
    assert "second-level reply" in text


# --- Threads in the pack -------------------------------------------------------------------------


def top_level(pack: dict) -> list[str]:
    """The bodies of the notes the pack shows as threads of their own (not as replies)."""
    return [
        note["body"]
        for reading in pack["readings"]
        for notes in [*(p["notes"] for p in reading["passages"]), reading["orphaned_notes"]]
        for note in notes
    ]


def test_replies_to_a_hidden_note_are_in_no_one_elses_pack(world, api, essay, reading, member_b):
    hidden = note_create(author=member_b, passage=at(essay, 12), body="B: off topic", visibility="group")
    reply = note_create(author=world.member, passage=at(essay, 12), body="A: reply", parent=hidden)
    note_create(author=world.facilitator, passage=at(essay, 12), body="F: reply to the reply", parent=reply)
    note_set_hidden(note=hidden, hidden=True, by=world.organizer)

    for user in (world.member, world.facilitator):
        pack = api(user).get(pack_url(world)).json()
        assert all_notes(pack) == {}
    for user in (member_b, world.organizer):
        pack = api(user).get(pack_url(world)).json()
        assert top_level(pack) == ["B: off topic"]
        assert set(all_notes(pack)) == {"B: off topic", "A: reply", "F: reply to the reply"}
        assert all_notes(pack)["B: off topic"]["hidden"] is True


def test_a_thread_made_private_leaves_every_other_pack_down_to_its_deepest_reply(world, api, essay, reading):
    root = note_create(author=world.member, passage=at(essay, 12), body="root", visibility="group")
    child = note_create(author=world.member, passage=at(essay, 12), body="child", parent=root)
    note_create(author=world.member, passage=at(essay, 12), body="grandchild", parent=child)

    api(world.member).patch(f"/api/v1/notes/{root.id}/", {"visibility": "private"}, format="json")

    for user in (world.facilitator, world.organizer):
        assert all_notes(api(user).get(pack_url(world)).json()) == {}
    own = all_notes(api(world.member).get(pack_url(world)).json())
    assert {body: note["visibility"] for body, note in own.items()} == {
        "root": "private",
        "child": "private",
        "grandchild": "private",
    }


# --- The version depends only on what each person's pack holds -------------------------------------


VIEWERS = ("member", "member_b", "facilitator", "organizer")


def _change(change: str, world, essay, discussed, member_b) -> None:
    question: object = discussed["question"]
    private = Note.objects.get(body="A: private")
    if change == "facilitator notes of a question":
        question_update(question=question, facilitator_notes="Start from §13 instead.")
    elif change == "a proposal":
        question_create(session=world.session, author=member_b, prompt="Another proposal", propose=True)
    elif change == "a proposal's wording":
        proposal = world.session.questions.get(prompt="A proposal")
        question_update(question=proposal, prompt="A better proposal")
    elif change == "a rejected question":
        proposal = world.session.questions.get(prompt="A proposal")
        question_decide(question=proposal, accept=False)
        question_update(question=proposal, prompt="Rejected, then edited")
    elif change == "member's private note":
        note_update(note=private, body="A: private, edited")
    elif change == "member_b's new private note":
        note_create(author=member_b, passage=at(essay, 12), body="B: secret", visibility="private")
    elif change == "member's facilitators note":
        note_update(note=Note.objects.get(body="A: facilitators"), body="A: facilitators, edited")
    elif change == "a reply to member's facilitators note":
        facilitators_note = Note.objects.get(body="A: facilitators")
        note_create(author=world.facilitator, passage=facilitators_note.passage, body="F", parent=facilitators_note)
    elif change == "member_b's hidden note":
        note_update(note=Note.objects.get(body="B: hidden"), body="B: hidden, edited")
    elif change == "a reply to the hidden note":
        hidden = Note.objects.get(body="B: hidden")
        note_create(author=world.organizer, passage=hidden.passage, body="O: please stay on topic", parent=hidden)
    elif change == "a group note that post-before-you-peek holds back":
        note_create(author=world.facilitator, passage=at(essay, 15), body="F: on 15", visibility="group")
    else:  # pragma: no cover
        raise AssertionError(change)


@pytest.mark.parametrize(
    ("change", "changed_for"),
    [
        ("facilitator notes of a question", {"facilitator", "organizer"}),
        # Proposals waiting for a decision are in the facilitators' brief (and leave it when rejected).
        ("a proposal", {"facilitator", "organizer"}),
        ("a proposal's wording", {"facilitator", "organizer"}),
        ("a rejected question", {"facilitator", "organizer"}),
        ("member's private note", {"member"}),
        ("member_b's new private note", {"member_b"}),
        ("member's facilitators note", {"member", "facilitator", "organizer"}),
        ("a reply to member's facilitators note", {"member", "facilitator", "organizer"}),
        ("member_b's hidden note", {"member_b", "organizer"}),
        ("a reply to the hidden note", {"member_b", "organizer"}),
        ("a group note that post-before-you-peek holds back", {"facilitator", "organizer"}),
    ],
)
def test_version_changes_for_exactly_those_whose_pack_changes(
    world, api, essay, discussed, member_b, change, changed_for
):
    world.session.post_before_peek = True
    world.session.save()
    people = {"member": world.member, "member_b": member_b, "facilitator": world.facilitator}
    people["organizer"] = world.organizer
    before = {name: etag(api, people[name], world) for name in VIEWERS}
    packs_before = {name: api(people[name]).get(pack_url(world)).json() for name in VIEWERS}

    _change(change, world, essay, discussed, member_b)

    after = {name: etag(api, people[name], world) for name in VIEWERS}
    packs_after = {name: api(people[name]).get(pack_url(world)).json() for name in VIEWERS}
    content_changed = {
        name
        for name in VIEWERS
        if {**packs_before[name], "generated_at": None, "version": None}
        != {**packs_after[name], "generated_at": None, "version": None}
    }
    assert {name for name in VIEWERS if before[name] != after[name]} == changed_for
    assert content_changed == changed_for


def test_version_changes_when_questions_are_reordered(world, api, discussed):
    second = question_create(session=world.session, author=world.organizer, prompt="Second")
    before = etag(api, world.member, world)

    proposal = world.session.questions.get(prompt="A proposal")
    questions_reorder(session=world.session, order=[second.id, discussed["question"].id, proposal.id])

    assert etag(api, world.member, world) != before


@pytest.mark.parametrize("role", ["member", "facilitator", "organizer"])
def test_each_roles_pack_matches_the_published_schema_and_a_drift_would_not(world, api, discussed, role):
    from ..pack_schema import pack_problems

    pack = api(getattr(world, role)).get(pack_url(world)).json()
    note = next(iter(all_notes(pack).values()))

    assert pack_problems(pack) == []
    note["shared_with"] = []  # a key the contract does not declare
    del pack["questions"][0]["prompt"]  # a required one missing
    pack["group"]["timezone"] = None  # a null where the contract takes none
    assert len(pack_problems(pack)) == 3


@pytest.mark.parametrize(("who", "has_brief"), [("member", False), ("facilitator", True), ("organizer", True)])
def test_only_facilitators_packs_carry_the_brief_and_never_a_private_note_in_it(
    world, api, essay, discussed, member_b, who, has_brief
):
    note_create(author=member_b, passage=at(essay, 14), body="B's secret doubt?", visibility="private")

    pack = api(getattr(world, who)).get(pack_url(world)).json()

    assert ("brief" in pack) is has_brief
    if has_brief:
        assert "secret" not in str(pack["brief"])
        assert [q["number"] for q in pack["brief"]["questions"]] == list(range(1, len(pack["questions"]) + 1))
        assert [row["user"]["name"] for row in pack["brief"]["progress"]["members"]] != []


@pytest.mark.parametrize(("minutes", "said"), [(1, "About 1 minute of reading."), (2, "About 2 minutes of reading.")])
def test_markdown_and_epub_say_the_reading_time_in_the_right_number(world, reading, minutes, said):
    scope = pack_scope(
        user=world.member, session=world.session, membership=membership_for(world.member, world.group.pk)
    )
    pack = {**build_pack(scope), "reading_minutes": minutes}

    assert said in formats.markdown(pack).decode()
    book = zipfile.ZipFile(io.BytesIO(formats.epub(pack)))
    assert any(said in book.read(name).decode() for name in book.namelist() if name.endswith(".xhtml"))
