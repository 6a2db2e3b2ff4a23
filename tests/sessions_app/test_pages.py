import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from sessions_app.models import Invitation, Membership, User
from sessions_app.services.groups import invitation_create

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_signs_in_and_lands_on_home_with_my_groups(world, client):
    response = client.post("/accounts/login/", {"username": "member", "password": PASSWORD}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/", 302)]
    assert "Tuesday Readers" in response.content.decode()
    assert "October, week one" in response.content.decode()


def test_login_page_with_wrong_password_shows_error_and_keeps_username(world, client):
    response = client.post("/accounts/login/", {"username": "member", "password": "wrong"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password." in page
    assert 'value="member"' in page


def test_logout_needs_post_and_ends_the_session(world, client):
    client.force_login(world.member)

    get = client.get("/accounts/logout/")
    response = client.post("/accounts/logout/")

    assert get.status_code == 405
    assert response.headers["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_home_redirects_anonymous_to_login(client):
    assert client.get("/").headers["Location"] == "/accounts/login/?next=/"


def test_password_reset_emails_a_site_url_link_that_sets_a_new_password(world, client, settings):
    settings.SITE_URL = "https://circle.example.org"

    client.post("/accounts/password-reset/", {"email": "member@example.org"})
    [message] = mail.outbox
    link = re.search(r"https://circle\.example\.org(/accounts/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a new long passphrase", "new_password2": "a new long passphrase"}
    )

    assert message.to == ["member@example.org"]
    assert message.subject == "Reset your Studycircle password"
    assert done.headers["Location"] == "/accounts/reset/done/"
    world.member.refresh_from_db()
    assert world.member.check_password("a new long passphrase")


def test_invitation_page_signs_up_a_new_person_and_signs_them_in(world, client):
    invitation = invitation_create(group=world.group, created_by=world.organizer)

    page = client.get(f"/join/{invitation.token}/")
    response = client.post(
        f"/join/{invitation.token}/", {"username": "clara", "email": "clara@example.org", "password": PASSWORD}
    )

    assert "Join Tuesday Readers" in page.content.decode()
    assert response.headers["Location"] == "/"
    clara = User.objects.get(username="clara")
    assert Membership.objects.get(user=clara).group == world.group
    assert int(client.session["_auth_user_id"]) == clara.id


def test_invitation_page_shows_errors_in_place_and_keeps_input(world, client):
    invitation = invitation_create(group=world.group, created_by=world.organizer)

    response = client.post(
        f"/join/{invitation.token}/", {"username": "member", "email": "fresh@example.org", "password": "short"}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "That user name is taken; choose another." in page
    assert "This password is too short." in page
    assert 'value="fresh@example.org"' in page
    assert Invitation.objects.get(pk=invitation.pk).use_count == 0


def test_invitation_page_reports_every_fields_errors_at_once(world, client):
    invitation = invitation_create(group=world.group, created_by=world.organizer)

    response = client.post(
        f"/join/{invitation.token}/",
        {"username": "member", "email": "not an address", "password": "short", "display_name": "Rosa\x07"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "That user name is taken; choose another." in page  # found by the service, beside the form's own
    assert "Enter a valid email address." in page
    assert "This password is too short." in page
    display_name = re.search(r'<input[^>]*name="display_name"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in display_name
    # What the field says it is described by is on the page: its help and its error.
    described_by = re.search(r'aria-describedby="([^"]+)"', display_name).group(1).split()
    assert [f'id="{name}"' in page for name in described_by] == [True, True]
    assert User.objects.filter(email="not an address").count() == 0


def test_sign_up_asks_for_the_name_the_group_sees(world, client):
    invitation = invitation_create(group=world.group, created_by=world.organizer)

    page = client.get(f"/join/{invitation.token}/").content.decode()
    client.post(
        f"/join/{invitation.token}/",
        {"username": "rosa", "email": "rosa@example.org", "password": PASSWORD, "display_name": " Rosa L. "},
    )

    assert '<label for="id_display_name">Your name' in page
    assert User.objects.get(username="rosa").name == "Rosa L."


def test_invitation_page_for_signed_in_user_joins_with_one_click(world, client):
    invitation = invitation_create(group=world.group, created_by=world.organizer)
    client.force_login(world.outsider)

    response = client.post(f"/join/{invitation.token}/", follow=True)

    assert "You are now in Tuesday Readers." in response.content.decode()
    assert Membership.objects.filter(user=world.outsider, group=world.group, role="member").exists()


def test_invitation_page_for_expired_link_is_a_410_with_what_to_do(world, client):
    invitation = invitation_create(group=world.group, created_by=world.organizer)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client.get(f"/join/{invitation.token}/")

    assert response.status_code == 410
    assert "This invitation has expired; ask the organizer for a new link." in response.content.decode()


def test_api_docs_and_schema_are_served(client):
    docs = client.get("/api/v1/docs/")
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()
    paths = schema.json()["paths"]
    assert {"/api/v1/series/", "/api/v1/sessions/{id}/rsvp/", "/api/v1/invitations/{token}/signup/"} <= set(paths)
    rsvp_body = paths["/api/v1/sessions/{id}/rsvp/"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert rsvp_body == {"$ref": "#/components/schemas/RSVPInputRequest"}
