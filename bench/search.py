"""Benchmark: search in a large group, through the full stack, against `GET /api/v1/me/`.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/studycircle .venv/bin/python bench/search.py`

A group with 20 texts of 125 passages (2,500 passages, the sample essay's
paragraphs) and 20,000 notes by 40 members (a fifth private, a fifth for
facilitators, a tenth replies), then the median of `GET /api/v1/search/`
for a few kinds of query, as the organizer and as a member (whose notes
visibility rule is the longer one), through middleware and token
authentication, next to `GET /api/v1/me/`. Target: each search's median at
most 5× that of `me/`. Also prints the queries each search makes.
"""

# ruff: noqa: E402 (bench/ leaves the import path before Django and the apps are imported)

import argparse
import random
import sys
from pathlib import Path

from _django import ROOT, machine, median_ms, throwaway_database

# bench/markdown.py would shadow the markdown package that DRF looks for: leave bench/ off the path now.
sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

from django.db import connection
from django.test import Client

from readings.models import Note, NoteTag, Passage
from readings.services.importing import text_import
from sessions_app.enums import Role
from sessions_app.models import Membership, StudyGroup, User
from sessions_app.services.api_tokens import api_token_create

TEXTS, PASSAGES_PER_TEXT, NOTES, MEMBERS = 20, 125, 20_000, 40
# Issue 12 §5: each search's median at most this many times `GET me/`'s.
TARGET_RATIO = 5
SAMPLE = (ROOT / "sample-texts" / "october-revolution-study-notes.txt").read_text()
WORDS = [word.strip(".,;:()‘’“”\"'") for word in SAMPLE.split() if len(word) > 3]
QUERIES = {
    "common word (revolution)": "revolution",
    "rarer word (coalition)": "coalition",
    "word found nowhere (Kronstadt)": "kronstadt",
    "two words": "peasants land",
    'phrase and exclusion ("working class" -party)': '"working class" -party',
    "word only in notes (marginalia)": "marginalia",
}


def build() -> tuple[User, User]:
    group = StudyGroup.objects.create(name="Bench circle", slug="bench-search", timezone="Europe/London")
    members = User.objects.bulk_create(
        [User(username=f"m{n}", display_name=f"Member {n}", email=f"m{n}@example.org") for n in range(MEMBERS)]
    )
    Membership.objects.bulk_create(
        [
            Membership(group=group, user=user, role=Role.ORGANIZER if n == 0 else Role.MEMBER)
            for n, user in enumerate(members)
        ]
    )
    paragraphs = [p for p in SAMPLE.split("\n\n")[1:] if p.strip()]
    for t in range(TEXTS):
        body = "\n\n".join(paragraphs[(t * 7 + n) % len(paragraphs)] for n in range(PASSAGES_PER_TEXT - 1))
        text_import(group=group, created_by=members[0], content=f"Bench text {t}\n\n{body}")
    passages = list(Passage.objects.filter(text__group=group).values_list("pk", flat=True))
    rng = random.Random(12)
    notes = [
        Note(
            author=members[n % MEMBERS],
            passage_id=passages[n % len(passages)],
            body=" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
            + (" marginalia" if n % 97 == 0 else ""),
            visibility=("group", "group", "group", "private", "facilitators")[n % 5],
        )
        for n in range(NOTES)
    ]
    for note in notes:
        note.body_html = f"<p>{note.body}</p>"
    notes = Note.objects.bulk_create(notes)
    replies = [
        Note(
            author=members[(n + 1) % MEMBERS],
            passage_id=note.passage_id,
            parent=note,
            root=note,
            body="I agree about the " + rng.choice(WORDS),
            visibility=note.visibility,
        )
        for n, note in enumerate(notes[: NOTES // 10])
        if note.visibility != "private"
    ]
    Note.objects.bulk_create(replies)
    NoteTag.objects.bulk_create([NoteTag(note=note, name="theme") for note in notes[::3]])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return members[0], members[1]


def explain(user: User, query: str) -> None:
    """EXPLAIN ANALYZE of each query a search makes (the hit list first), as `user`."""
    print(f"\nEXPLAIN ANALYZE, as {user.username}:")
    from readings import search

    scope = search.search_scope(user=user, query=query)
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, params, *rest: queries.append((sql, params)) or execute(sql, params, *rest)
    ):
        _total, hits = search.search_page(scope, page=1, page_size=20)
        search.search_results(scope, hits)
    for sql, params in queries:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print("\n" + "\n".join(row[0] for row in cursor.fetchall()))


def cpu_ms(function, *, repeat: int) -> float:
    """Mean CPU time of `function` in ms: this process's (Django) plus its PostgreSQL backend's.

    Read from /proc's schedstat (nanoseconds): unlike wall time it hardly moves when other work
    shares the cores, so the ratio to `me/` stays comparable on a busy machine.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def used() -> int:
        return sum(
            int(Path(path).read_text().split()[0])
            for path in ("/proc/thread-self/schedstat", f"/proc/{backend}/schedstat")
        )

    function()
    start = used()
    for _ in range(repeat):
        function()
    return (used() - start) / repeat / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--explain", action="store_true", help="also EXPLAIN ANALYZE a common word's search (organizer, member)"
    )
    args = parser.parse_args()
    missed, missed_cpu = [], []
    with throwaway_database():
        organizer, member = build()
        print(f"Machine: {machine()}; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        print(
            f"Group: {TEXTS} texts, {Passage.objects.count():,} passages, {Note.objects.count():,} notes "
            f"({Note.objects.filter(visibility='private').count():,} private)"
        )
        for who, user in (("organizer", organizer), ("member", member)):
            client = Client(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='bench')[1]}")
            assert client.get("/api/v1/me/").status_code == 200
            me_ms = median_ms(lambda client=client: client.get("/api/v1/me/"), repeat=31)
            me_cpu = cpu_ms(lambda client=client: client.get("/api/v1/me/"), repeat=31)
            print(f"\nAs the {who}: GET /api/v1/me/ median {me_ms:.1f} ms, CPU {me_cpu:.1f} ms (Django + PostgreSQL)")
            print(f"| query | hits | queries | median ms | × me/ | CPU ms | × me/ | ≤ {TARGET_RATIO}× me/ |")
            print("|---|---:|---:|---:|---:|---:|---:|---|")
            for label, query in QUERIES.items():
                url = "/api/v1/search/"
                response = client.get(url, {"q": query})
                assert response.status_code == 200, response.content
                queries = []
                with connection.execute_wrapper(
                    lambda execute, sql, *rest, queries=queries: queries.append(sql) or execute(sql, *rest)
                ):
                    client.get(url, {"q": query})
                ms = median_ms(lambda client=client, query=query, url=url: client.get(url, {"q": query}), repeat=15)
                cpu = cpu_ms(lambda client=client, query=query, url=url: client.get(url, {"q": query}), repeat=15)
                ratio, cpu_ratio = ms / me_ms, cpu / me_cpu
                if ratio > TARGET_RATIO:
                    missed.append(f"{label} as the {who}")
                if cpu_ratio > TARGET_RATIO:
                    missed_cpu.append(f"{label} as the {who}")
                verdict = "met" if ratio <= TARGET_RATIO else "NOT MET"
                cpu_verdict = "met" if cpu_ratio <= TARGET_RATIO else "NOT MET"
                print(
                    f"| {label} | {response.json()['count']:,} | {len(queries)} | {ms:.1f} | {ratio:.1f} "
                    f"| {cpu:.1f} | {cpu_ratio:.1f} | {verdict} (CPU: {cpu_verdict}) |"
                )
        if args.explain:
            for user in (organizer, member):
                explain(user, "revolution")
    print(
        f"\nTarget: every search's median ≤ {TARGET_RATIO}× GET me/'s: "
        + ("met" if not missed else "NOT MET (" + "; ".join(missed) + ")")
    )
    print(
        "Same, in CPU time (Django + PostgreSQL, mean): "
        + ("met" if not missed_cpu else "NOT MET (" + "; ".join(missed_cpu) + ")")
    )
    print(f"Load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
