"""Search through the API: texts, passages, notes and replies a person may see, with filters and marked words.

The tests that do not name PostgreSQL run on both engines: test_search_on_sqlite runs them again in a
child pytest on a SQLite database, the `make run` default.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from readings.search import Term, mark_terms, parse_query, search_hits, search_scope
from readings.services.assignments import assignment_create
from readings.services.importing import text_import
from readings.services.notes import note_create

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")

ESSAY = """The Peasant Question

a) Land and Bread

The peasants who were hungry for land seized the estates in the summer of 1917.

The soldiers at the front deserted in their thousands, and went home to share the land.

Bread queues in Petrograd grew longer every week of that winter.

b) The Dictatorship

The dictatorship of the proletariat rests on an alliance of workers and peasants."""


@pytest.fixture
def circle(world, member_b):
    """The essay, read by the world's session (§3–§6); notes by the member, member B and the facilitator."""
    text = text_import(group=world.group, created_by=world.organizer, content=ESSAY, title="The Peasant Question")
    p = {passage.position: passage for passage in text.passages.all()}
    assignment_create(session=world.session, text=text, start_passage=p[3], end_passage=p[6])
    notes = {
        "group": note_create(
            author=world.member,
            passage=p[4],
            body="Why did the soldiers go home?",
            visibility="group",
            tags=["question"],
        ),
        "private_b": note_create(
            author=member_b, passage=p[5], body="My secret xylophone thought about bread", visibility="private"
        ),
        "facilitators": note_create(
            author=world.member, passage=p[3], body="Ask about the harvest failure", visibility="facilitators"
        ),
    }
    notes["reply"] = note_create(
        author=world.facilitator, passage=p[4], body="Because the harvest was coming", parent=notes["group"]
    )
    other = text_import(group=world.other_group, created_by=world.outsider, content="Other\n\nSoldiers and harvest.")
    return {"text": text, "p": p, "notes": notes, "other": other}


def search(api, user, query="", **filters):
    response = api(user).get("/api/v1/search/", {"q": query, **filters})
    assert response.status_code == 200, response.content
    return response.json()


def hits(api, user, query, **filters) -> list[tuple[str, int]]:
    return [(hit["kind"], hit["id"]) for hit in search(api, user, query, **filters)["results"]]


def test_search_finds_passages_and_notes_with_marked_words_and_links(world, api, circle):
    found = search(api, world.member, "soldiers")

    assert found["count"] == 2
    passage = next(hit for hit in found["results"] if hit["kind"] == "passage")
    note = next(hit for hit in found["results"] if hit["kind"] == "note")
    p4 = circle["p"][4]
    assert passage["id"] == p4.id
    assert "<mark>soldiers</mark> at the front" in passage["headline"]
    assert passage["url"] == f"/sessions/{world.session.id}/read/#p-4"
    assert passage["text"] == {"id": circle["text"].id, "title": "The Peasant Question"}
    assert passage["group"] == {"id": world.group.id, "name": "Tuesday Readers"}
    assert note["id"] == circle["notes"]["group"].id
    assert note["author"] == {"id": world.member.id, "name": "Member"}
    assert (note["tags"], note["visibility"], note["reply_to"]) == (["question"], "group", None)
    assert "<mark>soldiers</mark>" in note["headline"]
    assert note["url"] == f"/sessions/{world.session.id}/read/#p-4"


def test_search_finds_texts_by_title_and_links_to_the_text(world, api, circle):
    found = search(api, world.organizer, "peasant", kind="text")

    assert found["count"] == 1
    assert found["results"][0]["url"] == f"/texts/{circle['text'].id}/"
    assert "<mark>Peasant</mark>" in found["results"][0]["headline"]


def test_passage_outside_every_session_links_to_its_text(world, api, circle):
    found = search(api, world.member, "dictatorship proletariat", kind="passage")

    assert [hit["url"] for hit in found["results"]] == [f"/texts/{circle['text'].id}/#p-7"]


def test_private_note_is_found_only_by_its_author(world, api, circle, member_b):
    for user in (world.organizer, world.facilitator, world.member):
        assert search(api, user, "xylophone") == {"count": 0, "next": None, "previous": None, "results": []}

    mine = search(api, member_b, "xylophone")

    assert [(hit["kind"], hit["id"]) for hit in mine["results"]] == [("note", circle["notes"]["private_b"].id)]
    assert "<mark>xylophone</mark>" in mine["results"][0]["headline"]


def test_private_note_never_counts_or_shows_in_a_headline(world, api, circle):
    """ "bread" is in passage §5 and in member B's private note on it: others get the passage alone."""
    found = search(api, world.organizer, "bread")

    assert found["count"] == 2  # the heading "Land and Bread" and §5; not the private note
    assert {hit["kind"] for hit in found["results"]} == {"passage"}
    assert "xylophone" not in str(found)


def test_facilitators_note_is_found_by_those_with_facilitator_rights_and_its_author(world, api, circle, member_b):
    facilitators_note = ("note", circle["notes"]["facilitators"].id)

    assert facilitators_note in hits(api, world.facilitator, "harvest")
    assert facilitators_note in hits(api, world.organizer, "harvest")
    assert facilitators_note in hits(api, world.member, "harvest")  # its author
    assert facilitators_note not in hits(api, member_b, "harvest")


def test_outsider_finds_nothing_of_another_group(world, api, circle):
    found = search(api, world.outsider, "soldiers")

    assert [(hit["kind"], hit["group"]["id"]) for hit in found["results"]] == [("passage", world.other_group.id)]


def test_replies_are_found_and_say_what_they_answer(world, api, circle):
    found = search(api, world.member, "harvest", kind="reply")

    assert [(hit["kind"], hit["id"], hit["reply_to"]) for hit in found["results"]] == [
        ("reply", circle["notes"]["reply"].id, circle["notes"]["group"].id)
    ]


def test_filters_narrow_the_hits(world, api, circle):
    notes, p = circle["notes"], circle["p"]

    assert hits(api, world.facilitator, "harvest", author=world.facilitator.id) == [("reply", notes["reply"].id)]
    assert hits(api, world.member, "soldiers", tag="#Question") == [("note", notes["group"].id)]
    assert hits(api, world.member, "soldiers", kind="passage") == [("passage", p[4].id)]
    assert hits(api, world.member, "soldiers", group=world.other_group.id) == []
    assert hits(api, world.member, "peasants", session=world.session.id, kind="passage") == [("passage", p[3].id)]
    assert sorted(hits(api, world.member, "peasants", text=circle["text"].id, kind="passage")) == sorted(
        [("passage", p[3].id), ("passage", p[7].id)]
        + ([("passage", p[1].id)] if connection.vendor == "postgresql" else [])  # stemmed: "Peasant"
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "q", "Type a word or two to search for."),
        ({"q": "  "}, "q", "Type a word or two to search for."),
        ({"q": "land\x00"}, "q", None),
        ({"q": "x" * 201}, "q", None),
        ({"q": "land", "kind": "poem"}, "kind", "“poem” is not one of: text, passage, note, reply."),
        ({"q": "land", "group": "abc"}, "group", None),
        ({"q": "land", "session": "999999"}, "session", "No such session among yours."),
    ],
)
def test_bad_search_is_a_400_naming_the_field(world, api, circle, params, field, message):
    response = api(world.member).get("/api/v1/search/", params)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]


def test_another_groups_session_is_refused_as_unknown(world, api, circle):
    response = api(world.outsider).get("/api/v1/search/", {"q": "land", "session": world.session.id})

    assert response.status_code == 400
    assert response.json()["errors"] == {"session": ["No such session among yours."]}


def test_headlines_are_escaped(world, api, circle):
    note_create(
        author=world.member,
        passage=circle["p"][4],
        body="The zebra & <script>alert(1)</script> more",
        visibility="group",
    )

    found = search(api, world.member, "zebra")

    headline = found["results"][0]["headline"]
    assert "<script>" not in headline
    assert "&amp;" in headline  # PostgreSQL's headline drops what looks like a tag; SQLite's shows it escaped
    assert "<mark>zebra</mark>" in headline


def test_search_costs_the_same_queries_for_few_and_many_hits(world, api, circle):
    def count_queries(n: int) -> int:
        for number in range(n):
            note = note_create(
                author=world.member,
                passage=circle["p"][6 - number % 2],
                body=f"Winter note {number}",
                visibility="group",
                tags=["winter", f"t{number}"],
            )
            note_create(author=world.facilitator, passage=note.passage, body="A winter reply", parent=note)
        with CaptureQueriesContext(connection) as queries:
            found = search(api, world.member, "winter")
        assert found["count"] >= n
        return len(queries)

    few = count_queries(2)
    many = count_queries(8)

    assert few == many


def test_parse_query_reads_web_search_syntax():
    assert parse_query('"exact phrase" -word') == [[Term(("exact", "phrase")), Term(("word",), negated=True)]]
    assert parse_query("land or bread") == [[Term(("land",))], [Term(("bread",))]]
    assert parse_query("-only -excluded") == []
    assert parse_query("Dictatorship, proletariat!") == [[Term(("dictatorship",)), Term(("proletariat",))]]


def test_mark_terms_marks_word_starts_and_escapes():
    shown = mark_terms("Reading <b>readers</b> spread", parse_query("read"))

    assert shown == "<mark>Reading</mark> &lt;b&gt;<mark>readers</mark>&lt;/b&gt; spread"


@postgres_only
def test_websearch_syntax_on_postgresql(world, api, circle):
    """A quoted phrase keeps its words together and in order; -word excludes; `or` offers alternatives."""
    p = circle["p"]

    assert hits(api, world.member, '"hungry for land"', kind="passage") == [("passage", p[3].id)]
    assert hits(api, world.member, '"land for hungry"', kind="passage") == []
    assert sorted(hits(api, world.member, "land -peasants", kind="passage")) == sorted(
        [("passage", p[2].id), ("passage", p[4].id)]
    )
    assert sorted(hits(api, world.member, "queues or deserted", kind="passage")) == sorted(
        [("passage", p[4].id), ("passage", p[5].id)]
    )


@postgres_only
def test_postgresql_ranks_and_stems(world, api, circle):
    """ "peasant" finds "peasants" (stemming); hits come best first."""
    p = circle["p"]

    found = search(api, world.member, "peasant")

    assert sorted((hit["kind"], hit["id"]) for hit in found["results"]) == sorted(
        [("text", circle["text"].id), ("passage", p[1].id), ("passage", p[3].id), ("passage", p[7].id)]
    )
    assert found["results"][0]["kind"] == "text"  # the title weighs most
    ranks = [hit["rank"] for hit in found["results"]]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[-1] > 0


@postgres_only
def test_search_matches_the_indexed_documents(world, circle):
    """The search filters on the stored documents, which their GIN indexes serve."""
    hits = search_hits(search_scope(user=world.member, query="soldiers"))
    sql, params = hits.query.get_compiler(using=hits.db).as_sql()
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plans["search"] = "\n".join(row[0] for row in cursor.fetchall())
        for table in ("readings_passage", "readings_note"):
            explain = f"EXPLAIN SELECT id FROM {table} WHERE search_document @@ websearch_to_tsquery('x')"  # noqa: S608 (our names)
            cursor.execute(explain)
            plans[table] = "\n".join(row[0] for row in cursor.fetchall())

    # passages, and notes and replies (the planner may repeat a condition, as a Recheck Cond and a Filter)
    assert plans["search"].count("search_document @@ ") >= 2
    assert "Bitmap Index Scan on passage_search_document" in plans["readings_passage"]
    assert "Bitmap Index Scan on note_search_document" in plans["readings_note"]


@postgres_only
@pytest.mark.slow
def test_search_on_sqlite(tmp_path):
    """The tests above that do not need PostgreSQL pass on SQLite too (the `make run` default)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REQUIRE_SERVICES", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", __file__],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert " failed" not in result.stdout


def test_search_pages(world, api, circle):
    first = search(api, world.member, "soldiers", page_size=1)
    second = api(world.member).get(first["next"])
    past = api(world.member).get("/api/v1/search/", {"q": "soldiers", "page_size": 1, "page": 3})

    assert (first["count"], len(first["results"]), first["previous"]) == (2, 1, None)
    assert second.status_code == 200
    body = second.json()
    assert (body["count"], body["next"]) == (2, None)
    assert "page=" not in body["previous"]
    assert body["previous"].startswith("http://testserver/api/v1/search/?")
    assert {first["results"][0]["id"], body["results"][0]["id"]} == {circle["p"][4].id, circle["notes"]["group"].id}
    assert past.status_code == 404
