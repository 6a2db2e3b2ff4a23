"""Every API error is the same JSON (core/api/errors.py), and request bodies are JSON."""

import pytest

from sessions_app.models import StudyGroup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("encoding", ["multipart", "form"])
def test_form_encoded_bodies_are_refused_with_a_415_and_write_nothing(world, api, encoding):
    """JSON is the API's one request content type (uploads aside); web forms post to the pages, not here."""
    client = api(world.organizer)
    if encoding == "multipart":
        response = client.post("/api/v1/groups/", {"name": "Form Circle"}, format="multipart")
        sent = "multipart/form-data"
    else:
        response = client.generic(
            "POST", "/api/v1/groups/", "name=Form+Circle", content_type="application/x-www-form-urlencoded"
        )
        sent = "application/x-www-form-urlencoded"

    assert response.status_code == 415
    assert response.json()["detail"].startswith(f'Unsupported media type "{sent}')
    assert not StudyGroup.objects.filter(name="Form Circle").exists()


def test_json_bodies_are_taken(world, api):
    response = api(world.organizer).post("/api/v1/groups/", {"name": "JSON Circle"}, format="json")

    assert (response.status_code, response.json()["name"]) == (201, "JSON Circle")


def test_unknown_api_address_is_a_json_404(world, api):
    unknown = api(world.member).get("/api/v1/nothing-here/")
    not_a_number = api(world.member).get("/api/v1/sessions/-1/questions/")

    for response in (unknown, not_a_number):
        assert (response.status_code, response["Content-Type"]) == (404, "application/json")
        assert response.json() == {"detail": "There is nothing at this address in the API."}


def test_unknown_page_is_still_an_html_404(client):
    response = client.get("/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
