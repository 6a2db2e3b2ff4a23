"""403, 404, 500 and a failed CSRF check: pages in the site's layout that say what happened and lead back."""

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from .test_web_pages import page, text_of

pytestmark = pytest.mark.django_db


def test_a_member_opening_an_organizers_page_is_told_why_in_the_sites_layout(world, client):
    response = page(client, world.member, f"/sessions/{world.session.pk}/edit/")

    words = text_of(response)
    assert response.status_code == 403
    assert "You can’t open this page" in words
    assert "Only organizers and this session&#x27;s facilitators can edit it." in words
    assert f"You are logged in as {world.member.name}" in words
    assert 'href="/">Go to your dashboard</a>' in response.content.decode()
    assert 'aria-label="Main"' in response.content.decode()  # the site's header and navigation


def test_an_unknown_address_is_a_404_page_with_a_way_back(world, client):
    response = page(client, world.member, "/groups/999999/<b>x</b>/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing here" in text_of(response)
    assert "<code>/groups/999999/%3Cb%3Ex%3C/b%3E/</code>" in body  # the address is shown, inert
    assert 'href="/">Go to your dashboard</a>' in body


def test_someone_signed_out_is_offered_the_login_page_on_a_404(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert 'href="/accounts/login/?next=/no/such/page/">Log in</a>' in response.content.decode()


def test_the_api_keeps_its_json_404(client):
    response = client.get("/api/v1/no-such-thing/")

    assert (response.status_code, response.json()["detail"]) == (404, "There is nothing at this address in the API.")


def test_the_500_page_renders_on_its_own_in_the_sites_look():
    response = server_error(RequestFactory().get("/sessions/1/"))

    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "/static/css/studycircle.css" in body
    assert 'href="/">Go to your dashboard</a>' in body


def test_a_form_sent_without_its_security_token_explains_what_to_do(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member)

    response = client.post("/reminders/preferences/", {})

    assert response.status_code == 403
    assert "This form could not be sent" in text_of(response)
    assert "reload the page and send it again" in text_of(response)
