"""Texts, passages and revisions through the API, as an organizer meets them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from readings.models import Passage, Text

from .conftest import SAMPLE
from .conftest import SAMPLE_CITED_WORKS as CITED_WORKS

pytestmark = pytest.mark.django_db


def upload(api, user, group, name: str, data: bytes, content_type: str = "text/plain", **fields):
    return api(user).post(
        "/api/v1/texts/",
        {"group": group.id, "file": SimpleUploadedFile(name, data, content_type=content_type), **fields},
        format="multipart",
    )


def test_upload_sample_essay_returns_text_with_cited_works(world, api):
    response = upload(api, world.organizer, world.group, SAMPLE.name, SAMPLE.read_bytes(), author="Study notes")

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["author"], body["format"], body["revision"]) == (
        "The October revolution and the bolsheviks",
        "Study notes",
        "txt",
        1,
    )
    assert body["passage_count"] == Passage.objects.count()
    works = [work["title"] for work in body["cited_works"] if work["title"] != "Postscript"]
    assert works == CITED_WORKS
    assert body["notices"] == []
    on_cooperation = next(work for work in body["cited_works"] if work["title"] == "On Co-operation")
    citing = Passage.objects.get(position=on_cooperation["passages"][0])
    assert "his article ‘On Co-operation’" in citing.body


def test_importing_a_title_the_group_has_is_refused_when_asked_and_names_the_text_to_revise(world, api):
    content = "Land and peace\n\nThe peasants wanted land.\n"
    first = api(world.organizer).post("/api/v1/texts/", {"group": world.group.id, "content": content}, format="json")
    again = {"group": world.group.id, "content": content + "\nAnd bread.\n"}

    refused = api(world.organizer).post("/api/v1/texts/", again | {"if_title_exists": "refuse"}, format="json")
    separate = api(world.organizer).post("/api/v1/texts/", again, format="json")

    text_id = first.json()["id"]
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "title": [
            f"A text called “Land and peace” is already in this group (text {text_id}). Send the file to "
            f"/api/v1/texts/{text_id}/revisions/ to import it as that text's new revision, or send "
            "if_title_exists=import to import it as a separate text."
        ]
    }
    assert separate.status_code == 201  # the default keeps importing a separate text, as before
    assert sorted(Text.objects.values_list("title", "revision")) == [("Land and peace", 1), ("Land and peace", 1)]


def test_json_content_with_markdown_format(world, api):
    content = (
        "# Notes on Capital\n\n## Chapter One\n\nThe commodity is, first of all, an external object.\n\n"
        "> A quotation.\n"
    )

    response = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "content": content, "format": "md"}, format="json"
    )
    passages = api(world.member).get(f"/api/v1/texts/{response.json()['id']}/passages/").json()["results"]

    assert response.status_code == 201
    assert response.json()["title"] == "Notes on Capital"
    assert [(p["position"], p["kind"], p["section"], p["quoted"]) for p in passages] == [
        (1, "heading", "", False),
        (2, "heading", "", False),
        (3, "paragraph", "Chapter One", False),
        (4, "quotation", "Chapter One", True),
    ]


def test_format_is_detected_from_the_file_name(world, api):
    html = b"<html><body><h1>An Essay</h1><p>First paragraph &amp; more.</p></body></html>"

    response = upload(api, world.organizer, world.group, "essay.html", html, content_type="application/octet-stream")

    assert response.json()["format"] == "html"
    assert list(Passage.objects.order_by("position").values_list("body", flat=True)) == [
        "An Essay",
        "First paragraph & more.",
    ]


@pytest.mark.parametrize(
    ("encoded", "notices"),
    [
        ("Title\n\n“Quoted,” she said — naïvely.".encode("utf-8-sig"), []),
        ("Title\n\n“Quoted,” she said — naïvely.".encode("utf-16"), []),
        (
            "Title\n\n“Quoted,” she said — naïvely.".encode("cp1252"),
            ["Decoded as Windows-1252 (cp1252): the file was not valid UTF-8."],
        ),
    ],
    ids=["utf-8-bom", "utf-16-bom", "cp1252"],
)
def test_encodings_decode_to_the_same_text(world, api, encoded, notices):
    response = upload(api, world.organizer, world.group, "t.txt", encoded)

    assert response.status_code == 201
    assert Passage.objects.get(position=2).body == "“Quoted,” she said — naïvely."
    assert [n for n in response.json()["notices"] if "Windows-1252" in n] == notices


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "file: The submitted file is empty."),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "file: This file looks like a PNG image, not text."),
        ("nul.txt", b"abc\x00def\x00\x01\x02\x03", "file: "),
        ("page.html", b"<html><script>alert(1)</script><nav>Menu</nav></html>", "file: "),
    ],
)
def test_bad_uploads_are_400s_naming_the_field_and_write_nothing(world, api, name, data, message):
    response = upload(api, world.organizer, world.group, name, data)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert list(response.json()["errors"]) == ["file"]
    assert not Text.objects.exists()
    assert not Passage.objects.exists()


def test_file_over_the_limit_is_a_json_400(world, api, settings):
    settings.TEXT_MAX_BYTES = 10_000

    response = upload(api, world.organizer, world.group, "big.txt", b"words and more words\n\n" * 1000)

    assert response.status_code == 400
    assert response.json()["detail"] == "file: The text is 0.0 MB; the limit is 0.0 MB. Split it into parts."
    assert not Text.objects.exists()


def test_json_content_over_the_limit_is_a_json_400(world, api, settings):
    settings.TEXT_MAX_BYTES = 10_000

    response = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "content": "x " * 6000}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["content"]


def test_body_far_over_every_limit_still_gets_our_json_400(world, api, settings):
    settings.TEXT_MAX_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3000

    response = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "content": "x" * 50_000}, format="json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("file: The request is 0.0 MB; texts may be up to 0.0 MB.")


def test_default_limit_is_five_megabytes_and_request_limits_sit_above_it(settings):
    assert settings.TEXT_MAX_BYTES == 5 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE > settings.TEXT_MAX_BYTES
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE > settings.TEXT_MAX_BYTES


def test_file_and_content_together_is_a_400(world, api):
    response = api(world.organizer).post(
        "/api/v1/texts/",
        {"group": world.group.id, "content": "x", "file": SimpleUploadedFile("a.txt", b"y")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "content: Send a file or content, not both."


def test_members_cannot_import_and_outsiders_cannot_see(world, api):
    member = upload(api, world.member, world.group, "a.txt", b"Title\n\nBody.")
    outsider = upload(api, world.outsider, world.group, "a.txt", b"Title\n\nBody.")
    text = upload(api, world.facilitator, world.group, "a.txt", b"Title\n\nBody.").json()

    assert member.status_code == 403
    assert outsider.status_code == 400
    assert outsider.json()["detail"] == "group: No such group among yours."
    assert api(world.outsider).get(f"/api/v1/texts/{text['id']}/").status_code == 404
    assert api(world.outsider).get(f"/api/v1/texts/{text['id']}/passages/").status_code == 404
    assert api(world.outsider).get("/api/v1/texts/").json()["count"] == 0
    assert api(world.member).get("/api/v1/texts/").json()["count"] == 1


def test_passages_are_paginated_in_reading_order(world, api):
    text_id = upload(api, world.organizer, world.group, SAMPLE.name, SAMPLE.read_bytes()).json()["id"]

    first = api(world.member).get(f"/api/v1/texts/{text_id}/passages/?page_size=5").json()
    second = api(world.member).get(first["next"]).json()

    assert first["count"] == Passage.objects.count()
    assert [p["position"] for p in first["results"] + second["results"]] == list(range(1, 11))
    assert set(first["results"][0]) == {
        "id",
        "anchor",
        "position",
        "kind",
        "section",
        "body",
        "word_count",
        "quoted",
        "attribution",
        "cited_works",
        "footnotes",
        "retired",
        "start_offset",
        "end_offset",
    }


def test_passages_list_query_count_does_not_grow(world, api, django_assert_num_queries):
    small = upload(api, world.organizer, world.group, "a.txt", b"T\n\none\n\ntwo").json()["id"]
    big = upload(api, world.organizer, world.group, "b.txt", "\n\n".join(["T"] + ["p"] * 60).encode()).json()["id"]
    client = api(world.member)

    # The short text's passages fit on the first page, so they are not counted apart (core.api.pagination);
    # past a page one COUNT query is added, whatever the text's length. A GET opens no transaction.
    with django_assert_num_queries(3):
        client.get(f"/api/v1/texts/{small}/passages/")
    with django_assert_num_queries(4):
        client.get(f"/api/v1/texts/{big}/passages/")


def test_revision_through_the_api_keeps_anchors_and_lists_revisions(world, api):
    original = SAMPLE.read_text()
    text_id = upload(api, world.organizer, world.group, SAMPLE.name, original.encode()).json()["id"]
    anchors_before = {p.anchor for p in Passage.objects.all()}

    revised = api(world.facilitator).post(
        f"/api/v1/texts/{text_id}/revisions/",
        {"content": original.replace("momentous event", "monumental event")},
        format="json",
    )
    revisions = api(world.member).get(f"/api/v1/texts/{text_id}/revisions/").json()["results"]
    member_try = api(world.member).post(f"/api/v1/texts/{text_id}/revisions/", {"content": "x"}, format="json")

    assert revised.status_code == 201
    assert revised.json()["revision"] == 2
    assert {p.anchor for p in Passage.objects.filter(retired=False)} == anchors_before
    assert [(r["number"], r["changes"]["edited"]) for r in revisions] == [(2, 1), (1, 0)]
    assert member_try.status_code == 403


def test_retired_passages_are_listed_only_on_request(world, api):
    text_id = upload(api, world.organizer, world.group, "a.txt", b"T\n\nkeep me\n\ndrop me").json()["id"]
    api(world.organizer).post(f"/api/v1/texts/{text_id}/revisions/", {"content": "T\n\nkeep me"}, format="json")

    default = api(world.member).get(f"/api/v1/texts/{text_id}/passages/").json()["results"]
    everything = api(world.member).get(f"/api/v1/texts/{text_id}/passages/?include_retired=1").json()["results"]

    assert [p["body"] for p in default] == ["T", "keep me"]
    assert [(p["body"], p["retired"]) for p in everything] == [("T", False), ("keep me", False), ("drop me", True)]


def test_include_retired_must_say_true_or_false(world, api):
    text_id = upload(api, world.organizer, world.group, "a.txt", b"T\n\nkeep me").json()["id"]

    response = api(world.member).get(f"/api/v1/texts/{text_id}/passages/?include_retired=maybe")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "include_retired: Must be a valid boolean.",
        "errors": {"include_retired": ["Must be a valid boolean."]},
    }


def test_only_imports_read_multipart_other_text_changes_take_json(world, api):
    """Uploading a file is multipart; every other body on the API is JSON (one content type per operation)."""
    text_id = upload(api, world.organizer, world.group, "a.txt", b"T\n\nkeep me").json()["id"]
    pasted = api(world.organizer).post(
        "/api/v1/texts/", {"group": world.group.id, "title": "Pasted", "content": "T\n\nbody"}, format="multipart"
    )

    renamed = api(world.organizer).patch(f"/api/v1/texts/{text_id}/", {"title": "New"}, format="multipart")

    assert pasted.status_code == 201
    assert pasted.json()["title"] == "Pasted"
    assert renamed.status_code == 415
    assert renamed.json()["detail"].startswith('Unsupported media type "multipart/form-data')
    assert Text.objects.get(pk=text_id).title == "T"
