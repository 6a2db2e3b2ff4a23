"""Request bodies on the API are JSON."""

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
