"""Every endpoint × every role × method, against DESIGN.md's table and status codes.

401 without credentials; 404 for what is not yours to see; 403 for what you
may see but not change. Rows are (method, path, body, expected codes for
anonymous, outsider, member, facilitator, organizer). `{...}` in a path or
body is filled from the world fixture.
"""

import json
from datetime import datetime

import pytest

from sessions_app.models import Invitation
from sessions_app.services.groups import invitation_create
from sessions_app.services.schedule import series_create

from .conftest import ROLES
from .factories import SessionFactory

ENDPOINTS = [
    # Groups
    ("GET", "/api/v1/groups/", None, (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/groups/", {"name": "New circle"}, (401, 201, 201, 201, 201)),
    ("GET", "/api/v1/groups/{group}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/groups/{group}/", {"description": "x"}, (401, 404, 403, 403, 200)),
    ("GET", "/api/v1/groups/{group}/members/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/groups/{group}/members/{member}/", {"role": "member"}, (401, 404, 403, 403, 200)),
    ("DELETE", "/api/v1/groups/{group}/members/{member}/", None, (401, 404, 403, 403, 204)),
    ("POST", "/api/v1/groups/{group}/leave/", None, (401, 404, 204, 204, 400)),
    ("GET", "/api/v1/groups/{group}/invitations/", None, (401, 404, 403, 403, 200)),
    ("POST", "/api/v1/groups/{group}/invitations/", {"role": "member"}, (401, 404, 403, 403, 201)),
    ("DELETE", "/api/v1/groups/{group}/invitations/{invitation}/", None, (401, 404, 403, 403, 200)),
    # Invitations by token: the link is the credential.
    ("GET", "/api/v1/invitations/{token}/", None, (200, 200, 200, 200, 200)),
    ("POST", "/api/v1/invitations/{token}/accept/", None, (401, 201, 200, 200, 200)),
    (
        "POST",
        "/api/v1/invitations/{token}/signup/",
        {"username": "new-{role}", "email": "n@example.org", "password": "a long enough passphrase"},
        (201, 201, 201, 201, 201),
    ),
    # Series
    ("GET", "/api/v1/series/", None, (401, 200, 200, 200, 200)),
    (
        "POST",
        "/api/v1/series/",
        {
            "group": "{group}",
            "title": "S",
            "timezone": "UTC",
            "first_starts_at": "2030-01-01T18:00:00",
            "rrule": "FREQ=WEEKLY;COUNT=2",
        },
        (401, 400, 403, 403, 201),
    ),
    ("GET", "/api/v1/series/{series}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/series/{series}/", {"location": "Here"}, (401, 404, 403, 403, 200)),
    # Sessions
    ("GET", "/api/v1/sessions/", None, (401, 200, 200, 200, 200)),
    (
        "POST",
        "/api/v1/sessions/",
        {"group": "{group}", "title": "T", "starts_at": "2030-01-01T18:00:00Z", "ends_at": "2030-01-01T19:00:00Z"},
        (401, 400, 403, 403, 201),
    ),
    ("GET", "/api/v1/sessions/{session}/", None, (401, 404, 200, 200, 200)),
    ("PATCH", "/api/v1/sessions/{session}/", {"location": "Room 9"}, (401, 404, 403, 200, 200)),
    ("POST", "/api/v1/sessions/{session}/cancel/", None, (401, 404, 403, 200, 200)),
    ("PUT", "/api/v1/sessions/{session}/rsvp/", {"status": "going"}, (401, 404, 200, 200, 200)),
    ("DELETE", "/api/v1/sessions/{session}/rsvp/", None, (401, 404, 200, 200, 200)),
    ("GET", "/api/v1/sessions/{session}/attendance/", None, (401, 404, 403, 200, 200)),
    ("PUT", "/api/v1/sessions/{session}/attendance/", {"present": []}, (401, 404, 403, 200, 200)),
    # Me
    ("GET", "/api/v1/me/", None, (401, 200, 200, 200, 200)),
    ("PATCH", "/api/v1/me/", {"timezone": "Europe/Paris"}, (401, 200, 200, 200, 200)),
    ("DELETE", "/api/v1/auth/token/", None, (401, 204, 204, 204, 204)),
]


def _fill(value, names: dict):
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in names:
            return names[value[1:-1]]
        return value.format(**names)
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.fixture
def names(world) -> dict:
    series = series_create(
        group=world.group,
        title="Course",
        timezone="UTC",
        first_starts_at=datetime(2030, 1, 1, 18, 0),
        rrule="FREQ=WEEKLY;COUNT=2",
    )
    invitation = invitation_create(group=world.group, created_by=world.organizer, max_uses=10)
    return {
        "group": world.group.id,
        "member": world.member.id,
        "session": world.session.id,
        "series": series.id,
        "invitation": invitation.id,
        "token": invitation.token,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), ENDPOINTS, ids=[f"{row[0]} {row[1]}" for row in ENDPOINTS]
)
def test_authorization_matrix(world, api, names, role, method, path, body, expected):
    names = {**names, "role": role}
    client = api(world.user(role))

    data = "" if body is None else json.dumps(_fill(body, names))
    response = client.generic(method, _fill(path, names), data=data, content_type="application/json")

    assert response.status_code == expected[ROLES.index(role)], response.content[:300]
    if response.status_code == 404:
        assert Invitation.objects.filter(group=world.group).count() == 1  # nothing was written


def test_facilitator_not_listed_on_a_session_cannot_edit_it(world, api):
    other = SessionFactory(group=world.group)

    response = api(world.facilitator).patch(f"/api/v1/sessions/{other.id}/", {"title": "Mine now"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only organizers and this session's facilitators can edit it."
