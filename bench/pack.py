"""Benchmark: the session pack of a large session, through the full stack, and its PDF.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle .venv/bin/python bench/pack.py`

Builds one assignment of 200 passages, 2,000 notes by 40 members and 20
questions, then measures in one run: the JSON pack (median, through
middleware and token auth), `GET /api/v1/me/`, a floor (the same rows with
one raw SQL query per table, dumped with orjson), the 304 path, and the md,
html and epub renderings (HTML and EPUB also for a whole book, 2,000
passages and 4,000 notes, and for 10,000 notes on 200 passages). The PDF is
measured as the worker makes it: in a fresh process that loads the session,
builds the pack and renders it once (median time and CPU of three such
processes, their largest peak RSS), for the large session and for an
ordinary one (the sample essay with 36 notes); and as the web process
answers it: 202 while it is prepared, 200 from the cache once it is there
(the process's own cache here; Redis in production).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import orjson

# The 202 path queues a render task: keep it in memory, never on a real broker's queue.
os.environ["CELERY_BROKER_URL"] = "memory://localhost/"

from _django import (
    ROOT,
    children_peak_rss_mb,
    cpu_seconds,
    machine,
    median_ms,
    peak_rss_mb,
    throwaway_database,
)
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from readings.models import Note, NoteTag
from readings.pack import formats
from readings.pack.builder import build_pack, pack_scope
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create
from readings.services.pack_files import pack_file_render
from readings.services.questions import question_create
from sessions_app.enums import Role
from sessions_app.models import Membership, Session, StudyGroup, User
from sessions_app.services.api_tokens import api_token_create

PASSAGES, NOTES, MEMBERS, QUESTIONS = 200, 2000, 40, 20
SAMPLE = (ROOT / "sample-texts" / "october-revolution-study-notes.txt").read_text()


def build_large_session(passages: int = PASSAGES, notes: int = NOTES) -> tuple[Session, User]:
    """The large session (or one of another size); returns it and its organizer."""
    group = StudyGroup.objects.create(name="Bench circle", slug=f"bench-{passages}-{notes}", timezone="Europe/London")
    members = User.objects.bulk_create(
        [
            User(username=f"member{passages}-{notes}-{n}", display_name=f"Member {n}", email=f"m{n}@example.org")
            for n in range(MEMBERS)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(group=group, user=user, role=Role.ORGANIZER if n == 0 else Role.MEMBER)
            for n, user in enumerate(members)
        ]
    )
    paragraphs = [p for p in SAMPLE.split("\n\n")[1:] if p.strip()]
    content = "Bench text\n\n" + "\n\n".join(paragraphs[n % len(paragraphs)] + f" ({n})" for n in range(passages))
    text = text_import(group=group, created_by=members[0], content=content)
    rows = list(text.passages.filter(position__gte=2).order_by("position"))
    session = Session.objects.create(
        group=group,
        title="Large session",
        starts_at="2030-01-10T19:00:00Z",
        ends_at="2030-01-10T21:00:00Z",
        timezone="Europe/London",
    )
    assignment_create(session=session, text=text, start_passage=rows[0], end_passage=rows[-1])
    for n in range(QUESTIONS):
        question_create(
            session=session,
            author=members[0],
            prompt=f"Question {n}: what does this passage tell us?",
            passages=[rows[n * 7 % len(rows)]],
            facilitator_notes="Notes for facilitators.",
        )
    written = []
    for n in range(notes):
        passage = rows[n % len(rows)]
        words = passage.body.split()
        exact = " ".join(words[2:5])
        start = passage.body.find(exact)
        written.append(
            Note(
                author=members[n % MEMBERS],
                passage=passage,
                body=f"Note {n}: *this* matters because of {exact}.",
                body_html=f"<p>Note {n}: <em>this</em> matters because of {exact}.</p>",
                visibility=("group", "group", "group", "private", "facilitators")[n % 5],
                selector={"start": start, "end": start + len(exact), "exact": exact, "prefix": "", "suffix": ""},
            )
        )
    written = Note.objects.bulk_create(written)
    NoteTag.objects.bulk_create([NoteTag(note=note, name="theme") for note in written[::3]])
    return session, members[0]


RAW_QUERIES = [
    (
        "session",
        "SELECT s.*, g.name "
        "FROM sessions_app_session s "
        "JOIN sessions_app_studygroup g ON g.id = s.group_id "
        "WHERE s.id = %(s)s",
    ),
    ("assignments", "SELECT * FROM readings_readingassignment WHERE session_id = %(s)s"),
    (
        "texts",
        "SELECT t.id, t.title, t.author, t.source "
        "FROM readings_text t "
        "WHERE t.id IN (SELECT text_id "
        "FROM readings_readingassignment "
        "WHERE session_id = %(s)s)",
    ),
    (
        "passages",
        "SELECT id, anchor, position, kind, section, body "
        "FROM readings_passage "
        "WHERE text_id IN (SELECT text_id "
        "FROM readings_readingassignment "
        "WHERE session_id = %(s)s) "
        "AND NOT retired "
        "ORDER BY position",
    ),
    (
        "notes",
        "SELECT id, passage_id, author_id, body, body_html, visibility, selector, anchor_state, question_id, parent_id "
        "FROM readings_note "
        "WHERE passage_id IN (SELECT p.id "
        "FROM readings_passage p "
        "JOIN readings_readingassignment a ON a.text_id = p.text_id "
        "WHERE a.session_id = %(s)s) "
        "AND NOT hidden "
        "AND (visibility = 'group' OR author_id = %(u)s)",
    ),
    (
        "users",
        "SELECT id, display_name, username "
        "FROM sessions_app_user "
        "WHERE id IN (SELECT user_id "
        "FROM sessions_app_membership "
        "WHERE group_id = (SELECT group_id "
        "FROM sessions_app_session "
        "WHERE id = %(s)s))",
    ),
    (
        "tags",
        "SELECT note_id, name "
        "FROM readings_notetag "
        "WHERE note_id IN (SELECT n.id "
        "FROM readings_note n "
        "JOIN readings_passage p ON p.id = n.passage_id "
        "JOIN readings_readingassignment a ON a.text_id = p.text_id "
        "WHERE a.session_id = %(s)s)",
    ),
    (
        "questions",
        "SELECT id, position, prompt, kind, minutes "
        "FROM readings_discussionquestion "
        "WHERE session_id = %(s)s "
        "AND state = 'accepted' "
        "ORDER BY position",
    ),
    (
        "question_passages",
        "SELECT q.discussionquestion_id, q.passage_id "
        "FROM readings_discussionquestion_passages q "
        "JOIN readings_discussionquestion d ON d.id = q.discussionquestion_id "
        "WHERE d.session_id = %(s)s",
    ),
]


def raw_floor(session_id: int, user_id: int) -> bytes:
    """The same data with one plain SQL query per table, dumped with orjson: what no ORM can beat."""
    out = {}
    with connection.cursor() as cursor:
        for name, sql in RAW_QUERIES:
            cursor.execute(sql, {"s": session_id, "u": user_id})
            columns = [column[0] for column in cursor.description]
            out[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return orjson.dumps(out, default=str)


def build_ordinary_session() -> tuple[Session, User]:
    """The sample essay, all of it, with 36 notes (some quoting words, a few with replies) by 4 members."""
    group = StudyGroup.objects.create(name="Tuesday Readers", slug="tuesday", timezone="Europe/London")
    people = [
        User.objects.create(username=f"reader{n}", display_name=name, email=f"r{n}@example.org")
        for n, name in enumerate(("Ada Organizer", "Ben", "Chloé", "Dmitri"))
    ]
    for n, user in enumerate(people):
        Membership.objects.create(group=group, user=user, role=Role.ORGANIZER if n == 0 else Role.MEMBER)
    text = text_import(group=group, created_by=people[0], data=SAMPLE.encode(), filename="october.txt")
    passages = list(text.passages.filter(retired=False).order_by("position"))
    session = Session.objects.create(
        group=group,
        title="October, week one",
        starts_at="2030-01-10T19:00:00Z",
        ends_at="2030-01-10T21:00:00Z",
        timezone="Europe/London",
        location="Library, room 2",
    )
    assignment_create(
        session=session, text=text, start_passage=passages[0], end_passage=passages[-1], instructions="Mark one claim."
    )
    for n in range(4):
        question_create(
            session=session,
            author=people[0],
            prompt=f"Question {n + 1}: why did the peasants follow the Bolsheviks?",
            passages=[passages[9 * n + 3]],
            minutes=10,
            facilitator_notes="Start from the passage.",
        )
    for n, passage in enumerate(passages[1::3][:36]):
        words = passage.body.split()
        exact = " ".join(words[3:6])
        start = passage.body.find(exact)
        selector = {"start": start, "end": start + len(exact), "exact": exact} if len(words) > 6 else None
        note = note_create(
            author=people[n % 4],
            passage=passage,
            body=f"Note {n}: **this** matters; see [the source](https://example.org/{n}) and *compare*.",
            visibility="group",
            selector=selector,
        )
        if n % 6 == 0:
            reply = note_create(author=people[(n + 1) % 4], passage=passage, body="I *agree*.", parent=note)
            note_create(author=people[(n + 2) % 4], passage=passage, body="Why?", parent=reply)
    return session, people[0]


def pdf_pages(data: bytes) -> int | None:
    """The number of pages, by poppler's pdfinfo (None where it is not installed)."""
    if not shutil.which("pdfinfo"):
        return None
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=False).stdout.decode()
    return next((int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:")), None)


def pdf_child(session_id: int, user_id: int) -> None:
    """Run in a fresh process, as the worker does: load, build and render the PDF once; print figures."""
    start, cpu_start = time.perf_counter(), cpu_seconds()
    session = Session.objects.select_related("group").get(pk=session_id)
    user = User.objects.get(pk=user_id)
    membership = Membership.objects.get(user=user, group=session.group)
    pack = build_pack(pack_scope(user=user, session=session, membership=membership))
    built = time.perf_counter()
    data = formats.pdf(pack)
    done = time.perf_counter()
    figures = {"seconds": done - start, "build_seconds": built - start, "render_seconds": done - built}
    figures["cpu_seconds"] = cpu_seconds() - cpu_start
    peaks = {"worker_mb": peak_rss_mb(), "typst_mb": children_peak_rss_mb()}
    figures["peak_mb"] = max(peaks.values())
    print(json.dumps({**figures, **peaks, "bytes": len(data), "pages": pdf_pages(data)}))


def in_fresh_process(script: str, mode: str, *args: object) -> dict:
    """Run `script mode args…` in a new interpreter on this benchmark's database; its last line, as JSON."""
    env = {**os.environ, "BENCH_DB_NAME": connection.settings_dict["NAME"]}
    result = subprocess.run(
        [sys.executable, script, mode, *map(str, args)], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"The child process ({mode}) failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def pdf_figures(session: Session, user: User, runs: int = 3) -> dict:
    """`pdf_child` in `runs` fresh processes: the median of each time, the largest peak RSS."""
    results = [in_fresh_process(__file__, "--pdf-child", session.pk, user.pk) for _ in range(runs)]
    figures = {key: statistics.median(r[key] for r in results) for key in results[0] if key.endswith("seconds")}
    peaks = {key: max(r[key] for r in results) for key in ("peak_mb", "worker_mb", "typst_mb")}
    return {**results[0], **figures, **peaks}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    with throwaway_database():
        session, organizer = build_large_session()
        _, token = api_token_create(user=organizer, name="bench")
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        pack_path = f"/api/v1/sessions/{session.pk}/pack/"
        first = client.get(pack_path)
        assert first.status_code == 200, first.content[:300]
        pack = orjson.loads(first.content)
        notes_in_pack = sum(len(p["notes"]) for r in pack["readings"] for p in r["passages"])
        etag = first["ETag"]
        assert client.get(pack_path, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get("/api/v1/me/").status_code == 200

        figures = {
            # Built: the first request for a version (after any change), the cache emptied before each run.
            "JSON pack, built (full stack)": median_ms(lambda: client.get(pack_path), repeat=21, setup=cache.clear),
            # Again for the same version: from the cache, as every request until the next change.
            "JSON pack (full stack)": median_ms(lambda: client.get(pack_path), repeat=21),
            "GET /api/v1/me/": median_ms(lambda: client.get("/api/v1/me/"), repeat=51),
            "raw floor (SQL + orjson)": median_ms(lambda: raw_floor(session.pk, organizer.pk), repeat=21),
            "304 (If-None-Match)": median_ms(lambda: client.get(pack_path, HTTP_IF_NONE_MATCH=etag), repeat=51),
        }
        for label, render, repeat in (
            ("md", formats.markdown, 7),
            ("html", formats.html, 7),
            ("epub", formats.epub, 3),
        ):
            figures[f"{label} rendering"] = median_ms(lambda render=render: render(pack), repeat=repeat)
        # The web side of PDF requests: it never renders, it answers from the cache or says "come back".
        pdf_path = pack_path + "?format=pdf"
        preparing = client.get(pdf_path)
        assert preparing.status_code == 202, preparing.content[:300]
        figures["pdf request, preparing (202)"] = median_ms(lambda: client.get(pdf_path), repeat=21)
        pack_file_render(session_id=session.pk, user_id=organizer.pk, fmt="pdf", version=preparing.json()["version"])
        assert client.get(pdf_path).status_code == 200
        figures["pdf request, ready (200)"] = median_ms(lambda: client.get(pdf_path), repeat=21)
        # A whole book for one session (2,000 passages, about 750 KB of text, 4,000 notes), and the
        # large session's 200 passages with 12,500 notes (10,000 in the organizer's pack).
        for label, size in (("whole book", (2000, 4000)), ("10,000 notes", (200, 12500))):
            big, big_organizer = build_large_session(*size)
            big = Session.objects.select_related("group").get(pk=big.pk)
            big_pack = build_pack(
                pack_scope(user=big_organizer, session=big, membership=big_organizer.memberships.get())
            )
            figures[f"html rendering, {label}"] = median_ms(lambda big_pack=big_pack: formats.html(big_pack), repeat=1)
            figures[f"epub rendering, {label}"] = median_ms(lambda big_pack=big_pack: formats.epub(big_pack), repeat=1)

        large_pdf = pdf_figures(session, organizer)
        ordinary, reader = build_ordinary_session()
        ordinary_pdf = pdf_figures(ordinary, reader)

        print(f"Machine: {machine()}")
        print(
            f"Large session: {PASSAGES} passages, {NOTES} notes by {MEMBERS} members ({notes_in_pack} in the "
            f"organizer's pack), {QUESTIONS} questions; JSON pack {len(first.content) / 1024:.0f} KiB"
        )
        for name, value in figures.items():
            print(f"  {name:<32}{value:>10.2f} ms")
        for label, pdf in (("large", large_pdf), ("ordinary", ordinary_pdf)):
            print(
                f"  {'pdf, ' + label + ' (fresh process)':<32}{pdf['seconds'] * 1000:>10.2f} ms "
                f"(build {pdf['build_seconds'] * 1000:.0f} ms + render {pdf['render_seconds'] * 1000:.0f} ms), "
                f"{pdf['pages']} pages, CPU {pdf['cpu_seconds'] * 1000:.0f} ms, "
                f"peak RSS {pdf['worker_mb']:.0f} MB (this process) / {pdf['typst_mb']:.0f} MB (Typst's)"
            )
        pack_ms, me_ms = figures["JSON pack (full stack)"], figures["GET /api/v1/me/"]
        floor_ms, not_modified_ms = figures["raw floor (SQL + orjson)"], figures["304 (If-None-Match)"]
        built_ms = figures["JSON pack, built (full stack)"]
        checks = [
            ("JSON pack <= 8x me/", pack_ms / me_ms, 8),
            ("JSON pack <= 2x raw floor", pack_ms / floor_ms, 2),
            ("JSON pack, built, <= 8x me/", built_ms / me_ms, 8),
            ("JSON pack, built, <= 2x raw floor", built_ms / floor_ms, 2),
            ("304 <= 1.5x me/", not_modified_ms / me_ms, 1.5),
        ]
        print()
        for label, ratio, limit in checks:
            print(f"{label}: {ratio:.2f}x -> {verdict(ratio <= limit)}")
        targets = [
            ("Large pack PDF <= 1.5 s", f"{large_pdf['seconds']:.2f} s", large_pdf["seconds"] <= 1.5),
            (
                "Large pack PDF peak RSS <= 200 MB (largest process)",
                f"{large_pdf['peak_mb']:.0f} MB",
                large_pdf["peak_mb"] <= 200,
            ),
            ("Ordinary pack PDF <= 0.3 s", f"{ordinary_pdf['seconds']:.2f} s", ordinary_pdf["seconds"] <= 0.3),
        ]
        web_pdf = max(figures["pdf request, preparing (202)"], figures["pdf request, ready (200)"])
        targets.append(("PDF request in the web process <= 1 s", f"{web_pdf:.1f} ms", web_pdf <= 1000))
        for label, figure, ok in targets:
            print(f"{label}: {figure} -> {verdict(ok)}")
        epub_seconds = max(figures["epub rendering, whole book"], figures["epub rendering, 10,000 notes"]) / 1000
        over = "can take more" if epub_seconds > 1 else "took less"
        print(f"EPUB {over} than 1 s ({epub_seconds:.2f} s at most here): the worker renders it, like the PDF")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--pdf-child":
        settings.DATABASES["default"]["NAME"] = os.environ["BENCH_DB_NAME"]
        pdf_child(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
