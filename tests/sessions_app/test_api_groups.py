from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app.enums import Role
from sessions_app.models import Invitation, Membership, StudyGroup, User

from ..factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def invite(api, world, **body) -> dict:
    """An invitation to the world's group, made by its organizer through the API."""
    response = api(world.organizer).post(f"/api/v1/groups/{world.group.id}/invitations/", body, format="json")
    assert response.status_code == 201
    return response.json()


def roles_in(group: StudyGroup) -> dict[str, str]:
    return dict(group.memberships.values_list("user__username", "role"))


def test_token_login_then_create_group_makes_creator_organizer():
    UserFactory(username="ada")
    client = APIClient()

    token = client.post("/api/v1/auth/token/", {"username": "ada", "password": PASSWORD}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    created = client.post(
        "/api/v1/groups/",
        {"name": "Capital, Volume One", "description": "Fortnightly", "timezone": "Europe/London"},
        format="json",
    )

    assert token.status_code == 200
    assert created.status_code == 201
    body = created.json()
    assert {key: body[key] for key in ("name", "slug", "timezone", "my_role")} == {
        "name": "Capital, Volume One",
        "slug": "capital-volume-one",
        "timezone": "Europe/London",
        "my_role": "organizer",
    }
    assert roles_in(StudyGroup.objects.get(pk=body["id"])) == {"ada": "organizer"}


def test_token_with_wrong_password_is_a_400_naming_the_field():
    UserFactory(username="ada")

    response = APIClient().post("/api/v1/auth/token/", {"username": "ada", "password": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["That user name and password do not match."]}


def test_token_delete_revokes_it():
    UserFactory(username="ada")
    client = APIClient()
    key = client.post("/api/v1/auth/token/", {"username": "ada", "password": PASSWORD}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/groups/").status_code == 401


def test_groups_list_shows_only_my_groups_with_my_role(world, api):
    response = api(world.member).get("/api/v1/groups/")

    assert response.status_code == 200
    assert [(group["name"], group["my_role"]) for group in response.json()["results"]] == [
        ("Tuesday Readers", "member")
    ]


def test_group_create_with_unknown_timezone_is_a_400_and_writes_nothing(world, api):
    before = StudyGroup.objects.count()

    response = api(world.member).post("/api/v1/groups/", {"name": "X", "timezone": "Mars/Olympus"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("timezone: “Mars/Olympus” is not a known IANA timezone")
    assert StudyGroup.objects.count() == before


def test_invitation_created_by_organizer_and_accepted_by_member(world, api):
    newcomer = UserFactory(username="newcomer")

    created = api(world.organizer).post(
        f"/api/v1/groups/{world.group.id}/invitations/", {"role": "member", "max_uses": 5}, format="json"
    )
    token = created.json()["token"]
    preview = APIClient().get(f"/api/v1/invitations/{token}/")
    accepted = api(newcomer).post(f"/api/v1/invitations/{token}/accept/")

    assert created.status_code == 201
    assert created.json()["url"] == f"http://127.0.0.1:8000/join/{token}/"
    assert created.json()["role"] == "member"
    assert preview.json()["group"]["name"] == "Tuesday Readers"
    assert preview.json()["usable"] is True
    assert accepted.status_code == 201
    assert accepted.json() == {"group": world.group.id, "group_name": "Tuesday Readers", "role": "member"}
    assert roles_in(world.group)["newcomer"] == "member"
    assert Invitation.objects.get(token=token).use_count == 1


def test_invitation_url_uses_site_url(world, api, settings):
    settings.SITE_URL = "https://circle.example.org"

    created = api(world.organizer).post(f"/api/v1/groups/{world.group.id}/invitations/", {}, format="json")

    assert created.json()["url"] == f"https://circle.example.org/join/{created.json()['token']}/"


def test_invitation_accept_by_existing_member_keeps_role_and_spends_no_use(world, api):
    token = invite(api, world)["token"]

    response = api(world.facilitator).post(f"/api/v1/invitations/{token}/accept/")

    assert response.status_code == 200
    assert response.json()["role"] == "facilitator"
    assert Invitation.objects.get(token=token).use_count == 0


@pytest.mark.parametrize("problem", ["used", "expired", "revoked"])
def test_invitation_that_cannot_be_used_is_a_410(world, api, problem):
    invitation = Invitation.objects.create(
        group=world.group, token=f"tok-{problem}", role=Role.MEMBER, expires_at=timezone.now() + timedelta(days=1)
    )
    if problem == "used":
        invitation.use_count = 1
    elif problem == "expired":
        invitation.expires_at = timezone.now() - timedelta(seconds=1)
    else:
        invitation.revoked_at = timezone.now()
    invitation.save()
    newcomer = UserFactory(username="late")

    accepted = api(newcomer).post(f"/api/v1/invitations/{invitation.token}/accept/")
    signup = APIClient().post(
        f"/api/v1/invitations/{invitation.token}/signup/",
        {"username": "brandnew", "email": "b@example.org", "password": PASSWORD},
        format="json",
    )

    assert accepted.status_code == 410
    assert signup.status_code == 410
    assert problem.replace("used", "used up") in accepted.json()["detail"]
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not User.objects.filter(username="brandnew").exists()


def test_invitation_max_uses_is_enforced(world, api):
    token = invite(api, world, **{"max_uses": 2})["token"]

    codes = [
        api(UserFactory(username=f"p{n}")).post(f"/api/v1/invitations/{token}/accept/").status_code for n in range(3)
    ]

    assert codes == [201, 201, 410]


def test_signup_through_invitation_creates_account_membership_and_token(world, api):
    token = invite(api, world, **{"role": "facilitator"})["token"]

    response = APIClient().post(
        f"/api/v1/invitations/{token}/signup/",
        {"username": "rosa", "email": "rosa@example.org", "password": PASSWORD},
        format="json",
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    assert response.status_code == 201
    assert response.json()["role"] == "facilitator"
    assert roles_in(world.group)["rosa"] == "facilitator"
    assert User.objects.get(username="rosa").check_password(PASSWORD)
    assert [group["my_role"] for group in client.get("/api/v1/groups/").json()["results"]] == ["facilitator"]


def test_signup_with_weak_password_and_taken_name_writes_nothing(world, api):
    token = invite(api, world)["token"]

    response = APIClient().post(
        f"/api/v1/invitations/{token}/signup/",
        {"username": "member", "email": "m@example.org", "password": "123"},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["username"] == ["That user name is taken; choose another."]
    assert "This password is too short. It must contain at least 8 characters." in errors["password"]
    assert Invitation.objects.get(token=token).use_count == 0


def test_invitation_with_unknown_role_is_a_400(world, api):
    response = api(world.organizer).post(
        f"/api/v1/groups/{world.group.id}/invitations/", {"role": "emperor"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "role: “emperor” is not one of: organizer, facilitator, member."
    assert not Invitation.objects.exists()


def test_invitation_revoke_then_it_is_gone(world, api):
    created = invite(api, world)

    revoked = api(world.organizer).delete(f"/api/v1/groups/{world.group.id}/invitations/{created['id']}/")
    accept = api(UserFactory(username="x")).post(f"/api/v1/invitations/{created['token']}/accept/")

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert accept.status_code == 410


def test_organizer_changes_role_and_removes_member(world, api):
    promoted = api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/members/{world.member.id}/", {"role": "facilitator"}, format="json"
    )
    removed = api(world.organizer).delete(f"/api/v1/groups/{world.group.id}/members/{world.facilitator.id}/")

    assert promoted.status_code == 200
    assert promoted.json()["role"] == "facilitator"
    assert removed.status_code == 204
    assert roles_in(world.group) == {"organizer": "organizer", "member": "facilitator"}
    assert list(world.session.facilitators.all()) == []


def test_member_leaves_and_loses_access(world, api):
    left = api(world.member).post(f"/api/v1/groups/{world.group.id}/leave/")

    assert left.status_code == 204
    assert api(world.member).get(f"/api/v1/groups/{world.group.id}/").status_code == 404
    assert api(world.member).get(f"/api/v1/sessions/{world.session.id}/").status_code == 404


def test_last_organizer_can_neither_leave_nor_be_demoted(world, api):
    leave = api(world.organizer).post(f"/api/v1/groups/{world.group.id}/leave/")
    demote = api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/members/{world.organizer.id}/", {"role": "member"}, format="json"
    )

    assert leave.status_code == 400
    assert demote.status_code == 400
    assert "last organizer" in leave.json()["detail"]
    assert "last organizer" in demote.json()["detail"]
    assert roles_in(world.group)["organizer"] == "organizer"


def test_organizer_can_step_down_once_another_organizer_exists(world, api):
    api(world.organizer).patch(
        f"/api/v1/groups/{world.group.id}/members/{world.member.id}/", {"role": "organizer"}, format="json"
    )

    response = api(world.organizer).post(f"/api/v1/groups/{world.group.id}/leave/")

    assert response.status_code == 204
    assert roles_in(world.group) == {"facilitator": "facilitator", "member": "organizer"}


def test_members_list_is_paginated_and_names_roles(world, api):
    MembershipFactory(group=world.group, user=UserFactory(username="zed"))

    response = api(world.member).get(f"/api/v1/groups/{world.group.id}/members/?page_size=2")

    assert response.json()["count"] == 4
    assert [(m["user"]["name"], m["role"]) for m in response.json()["results"]] == [
        ("Facilitator", "facilitator"),
        ("Member", "member"),
    ]
    assert response.json()["next"].endswith("page=2&page_size=2")


def test_groups_list_query_count_does_not_grow(world, api, django_assert_num_queries):
    client = api(world.member)
    # 1: no COUNT query while the list fits on its first page (core.api.pagination), and a GET opens no
    # transaction (core/transactions.py).
    with django_assert_num_queries(1):
        client.get("/api/v1/groups/")
    for n in range(5):
        MembershipFactory(user=world.member, group__name=f"Extra {n}")
    with django_assert_num_queries(1):
        assert client.get("/api/v1/groups/").json()["count"] == 6
