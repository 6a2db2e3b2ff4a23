"""Requests that answered 500 once, and their kin: each now gets a 400 (or the 404 of a name that matches nothing).

The API answers with its JSON error naming the field; pages answer Django's
plain 400 page, which never echoes what was sent.
"""

import json

import pytest

from sessions_app.models import Invitation, Series, Session
from sessions_app.services.groups import invitation_create

from .factories import PASSWORD
from .test_authorization_matrix import ENDPOINTS, _fill, names  # noqa: F401 (names is a fixture used below)

pytestmark = pytest.mark.django_db

DEEP = "[" * 10_000 + "]" * 10_000
TOO_DEEP = "The request body could not be read: JSON nested more than 32 levels deep is not accepted."


def _nested(depth: int) -> str:
    return '{"username": ' + "[" * (depth - 1) + "]" * (depth - 1) + ', "password": "x"}'


# --- Deeply nested JSON -------------------------------------------------------------------------


@pytest.mark.parametrize("body", [DEEP, _nested(33)], ids=["10000 brackets", "33 levels"])
def test_deeply_nested_json_is_a_400_at_login_and_signup(world, api, body):
    token = invitation_create(group=world.group, created_by=world.organizer).token

    login = api(None).post("/api/v1/auth/token/", data=body, content_type="application/json")
    signup = api(None).post(f"/api/v1/invitations/{token}/signup/", data=body, content_type="application/json")

    for response in (login, signup):
        assert response.status_code == 400
        assert response.json() == {"detail": TOO_DEEP, "errors": {"body": [TOO_DEEP.split(": ", 1)[1]]}}
    assert Invitation.objects.get(token=token).use_count == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/notes/"),
        ("patch", "/api/v1/me/"),
        ("post", "/api/v1/texts/"),
        ("put", "/api/v1/sessions/1/rsvp/"),
    ],
)
def test_deeply_nested_json_is_a_400_everywhere_in_the_api(world, api, method, path):
    response = getattr(api(world.member), method)(
        path.replace("/1/", f"/{world.session.pk}/"), data=DEEP, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == TOO_DEEP


def test_json_nested_within_the_limit_still_parses(world, api):
    response = api(None).post("/api/v1/auth/token/", data=_nested(32), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"username": ["Not a valid string."]}


# --- Times that leave the calendar --------------------------------------------------------------

OUT_OF_RANGE = "“{}” is outside the dates we accept: give one from 1900 to 2999."


@pytest.mark.parametrize(
    "query",
    [
        "starts_after=0001-01-01T00:00:00-23:59",
        "starts_before=9999-12-31T23:00:00-14:00",
        "starts_after=1899-12-31T23:59:59Z",
        "starts_before=3000-01-01T00:00:00%2B01:00",
    ],
)
def test_session_list_with_a_time_outside_the_calendar_is_a_400_naming_the_filter(world, api, query):
    name, value = query.split("=")
    value = value.replace("%2B", "+")

    response = api(world.member).get(f"/api/v1/sessions/?{query}")

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"{name}: {OUT_OF_RANGE.format(value)}",
        "errors": {name: [OUT_OF_RANGE.format(value)]},
    }


def test_session_list_filter_converts_an_offset_to_utc(world, api):
    # 2030-01-01T03:00 at -23:59 is 2030-01-02T02:59 UTC: the session at noon on the 1st is before it.
    Session.objects.filter(pk=world.session.pk).update(starts_at="2030-01-01T12:00:00Z", ends_at="2030-01-01T13:00:00Z")

    after = api(world.member).get("/api/v1/sessions/?starts_after=2030-01-01T03:00:00-23:59")
    before = api(world.member).get("/api/v1/sessions/?starts_before=2030-01-01T03:00:00-23:59")

    assert (after.status_code, after.json()["results"]) == (200, [])
    assert [session["id"] for session in before.json()["results"]] == [world.session.pk]


@pytest.mark.parametrize(
    ("path", "body", "field", "value"),
    [
        ("/api/v1/sessions/", {"starts_at": "9999-12-31T23:00:00-14:00", "ends_at": "9999-12-31T23:30:00-14:00"},
         "starts_at", "9999-12-31T23:00:00-14:00"),
        ("/api/v1/sessions/", {"starts_at": "2030-01-01T10:00:00Z", "ends_at": "9999-12-31T23:30:00Z"},
         "ends_at", "9999-12-31T23:30:00Z"),
        ("/api/v1/series/", {"first_starts_at": "9999-12-31T20:00:00", "rrule": "FREQ=DAILY;COUNT=3"},
         "first_starts_at", "9999-12-31T20:00:00"),
        ("/api/v1/groups/{group}/invitations/", {"expires_at": "9999-12-31T23:00:00-14:00"},
         "expires_at", "9999-12-31T23:00:00-14:00"),
    ],
)  # fmt: skip
def test_a_time_outside_the_calendar_in_a_body_is_a_400_naming_the_field(world, api, path, body, field, value):
    body = {"group": world.group.pk, "title": "Far away", "timezone": "Pacific/Kiritimati", **body}

    response = api(world.organizer).post(path.format(group=world.group.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][field] == [OUT_OF_RANGE.format(value)]
    assert (Session.objects.count(), Series.objects.count(), Invitation.objects.count()) == (1, 0, 0)


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("sessions/new", {"title": "Far", "starts_at": "9999-12-31T23:00", "duration_minutes": 90,
                          "status": "scheduled"}, "starts_at"),
        ("series/new", {"title": "Far", "first_starts_at": "9999-12-31T23:00", "duration_minutes": 90,
                        "frequency": "DAILY", "count": 3}, "first_starts_at"),
    ],
)  # fmt: skip
def test_a_time_outside_the_calendar_in_a_page_form_is_a_400_on_its_field(world, client, path, form, field):
    client.force_login(world.organizer)

    response = client.post(f"/groups/{world.group.pk}/{path}/", {**form, "timezone": "Pacific/Kiritimati"})

    assert response.status_code == 400
    assert response.context["form"].errors == {field: ["Give a date between the years 1900 and 2999."]}
    assert (Session.objects.count(), Series.objects.count()) == (1, 0)


# --- OPTIONS, whatever the format --------------------------------------------------------------

FORMATS = ["json", "md", "html", "pdf", "epub"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_options_on_the_pack_in_each_format_describes_it_in_json(world, api, fmt):
    response = api(world.member).options(f"/api/v1/sessions/{world.session.pk}/pack/?format={fmt}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["name"] == "Pack"
    assert response.json()["renders"] == [
        "application/json",
        "text/markdown",
        "text/html",
        "application/pdf",
        "application/epub+zip",
    ]


def test_options_on_every_endpoint_in_every_format_never_fails(world, api, names):  # noqa: F811 (the fixture)
    paths = sorted({_fill(path, {**names, "role": "organizer"}).split("?")[0] for _, path, _, _ in ENDPOINTS})
    failures = []
    for path in paths:
        # No format, a binary one, the calendar's, and the browsable API (HTML by design; all else is JSON).
        for fmt, user in [(None, None), (None, world.organizer), ("pdf", world.organizer), ("ics", world.organizer),
                          ("api", world.organizer)]:  # fmt: skip
            url = path if fmt is None else f"{path}?format={fmt}"
            expected = ("text/html", "application/json") if fmt == "api" else ("application/json",)
            # No savepoint of the test's around each request: OPTIONS runs in no transaction, and a refusal
            # marks none as broken (core/transactions.py, core/api/errors.py).
            response = api(user).options(url)
            if response.status_code >= 500 or (
                response.status_code == 200 and not response["Content-Type"].startswith(expected)
            ):
                failures.append((url, user, response.status_code, response["Content-Type"]))
    assert failures == []
    assert len(paths) > 30


# --- Pages that read an id from the query string or a form ------------------------------------


@pytest.mark.parametrize("value", ["<b>x</b>", "12abc", "'; DROP TABLE", "１２"])
def test_questions_page_with_an_edit_value_that_is_not_a_number_is_a_plain_400(world, client, value):
    client.force_login(world.organizer)

    response = client.get(f"/sessions/{world.session.pk}/questions/", {"edit": value})

    assert response.status_code == 400
    assert "<h1>Bad Request (400)</h1>" in response.text
    assert value not in response.text


def test_questions_page_posted_with_a_question_that_is_not_a_number_is_a_plain_400(world, client):
    client.force_login(world.organizer)

    response = client.post(f"/sessions/{world.session.pk}/questions/", {"question": "<i>1</i>", "prompt": "Why?"})

    assert response.status_code == 400
    assert b"<i>" not in response.content
    assert world.session.questions.count() == 0


def test_questions_page_with_an_edit_number_that_names_nothing_is_a_404(world, client):
    client.force_login(world.organizer)

    assert client.get(f"/sessions/{world.session.pk}/questions/", {"edit": "99999999999999999999"}).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_reading_picker_with_a_text_that_is_not_a_number_is_a_plain_400(world, client, method):
    client.force_login(world.organizer)

    response = getattr(client, method)(f"/sessions/{world.session.pk}/readings/new/", {"text": "<svg onload=x>"})

    assert response.status_code == 400
    assert b"svg" not in response.content


@pytest.mark.parametrize("path", ["/join/%00/", "/join/a%0Ab/", "/calendar/%00.ics", "/calendar/a%20b.ics"])
def test_a_secret_address_with_characters_no_secret_has_is_a_404(client, path):
    assert client.get(path).status_code == 404


def test_signup_still_works_through_a_real_token(world, client):
    token = invitation_create(group=world.group, created_by=world.organizer).token

    response = client.post(f"/join/{token}/", {"username": "newcomer", "email": "n@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert json.loads(json.dumps(response["Location"])) == "/"


# --- Search pages far past the end ---------------------------------------------------------------

FAR_PAGE = str(10**18)  # times 20 results a page, past what PostgreSQL's OFFSET holds (a 500 once)


def test_search_page_number_past_every_possible_page_is_a_400_naming_it(world, api):
    response = api(world.member).get("/api/v1/search/", {"q": "land", "page": FAR_PAGE})

    assert response.status_code == 400
    assert response.json()["errors"] == {"page": ["Ensure this value is less than or equal to 100000."]}


def test_search_page_with_a_page_number_past_every_possible_page_is_a_400_on_its_field(world, client):
    client.force_login(world.member)

    response = client.get("/search/", {"q": "land", "page": FAR_PAGE})

    assert response.status_code == 400
    assert response.context["form"].errors == {"page": ["Ensure this value is less than or equal to 100000."]}
