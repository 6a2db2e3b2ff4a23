"""The pages a reminder email links to: one-click unsubscribe (RFC 8058) and email preferences."""

from datetime import timedelta

import pytest
from django.test import Client

from reminders.emails import unsubscribe_url
from reminders.models import NotificationPreference
from reminders.services.planning import reminders_plan_for_session
from reminders.services.preferences import preference_for, preference_update

from .conftest import READING_DUE, STARTING_DUE, STARTS, outbox

pytestmark = pytest.mark.django_db

SWITCHES = ("email_reading", "email_starting", "email_changed", "email_cancelled")


def switches(user) -> dict[str, bool]:
    preference = preference_for(user)
    return {name: getattr(preference, name) for name in SWITCHES}


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def test_unsubscribe_get_shows_a_confirm_button_and_changes_nothing(world, session):
    response = Client().get(path_of(unsubscribe_url(world.member.pk, "starting")))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Stop “Starting soon” emails?</h1>" in page
    assert '<form method="post">' in page
    assert '<button type="submit" class="primary">Unsubscribe</button>' in page
    assert NotificationPreference.objects.filter(user=world.member).exists() is False
    assert outbox(recipient=world.member, kind="starting") == {("member", "starting", STARTING_DUE, "pending")}


def test_unsubscribe_one_click_post_turns_that_kind_off_without_login_or_csrf_token(world, session):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        path_of(unsubscribe_url(world.member.pk, "starting")),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "<h1>Unsubscribed</h1>" in response.content.decode()
    assert switches(world.member) == {
        "email_reading": True,
        "email_starting": False,
        "email_changed": True,
        "email_cancelled": True,
    }
    assert outbox(recipient=world.member) == {("member", "reading", READING_DUE, "pending")}
    assert switches(world.organizer) == dict.fromkeys(SWITCHES, True)


def test_unsubscribe_post_twice_is_harmless(world, session):
    url = path_of(unsubscribe_url(world.member.pk, "reading"))

    codes = [Client().post(url).status_code, Client().post(url).status_code]

    assert codes == [200, 200]
    assert switches(world.member)["email_reading"] is False


def test_unsubscribe_get_after_unsubscribing_says_it_is_already_off(world, session):
    url = path_of(unsubscribe_url(world.member.pk, "cancelled"))
    Client().post(url)

    page = Client().get(url).content.decode()

    assert "“Cancelled” emails are already off for Member." in page
    assert "<form" not in page


@pytest.mark.parametrize(
    "token",
    [
        "WzMsInN0YXJ0aW5nIl0:forged-signature",
        "not-a-token",
        "WzMsIm5vc3VjaGtpbmQiXQ:x",
    ],
)
def test_unsubscribe_with_a_bad_token_is_404_and_changes_nothing(world, session, token):
    get = Client().get(f"/reminders/unsubscribe/{token}/")
    post = Client().post(
        f"/reminders/unsubscribe/{token}/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert (get.status_code, post.status_code) == (404, 404)
    assert "This link does not work" in post.content.decode()
    assert NotificationPreference.objects.exists() is False


def test_unsubscribe_token_of_another_kind_flips_only_that_kind(world, session):
    Client().post(path_of(unsubscribe_url(world.member.pk, "changed")))

    assert switches(world.member) == {
        "email_reading": True,
        "email_starting": True,
        "email_changed": False,
        "email_cancelled": True,
    }


def test_preferences_page_needs_login(client):
    response = client.get("/reminders/preferences/")

    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/accounts/login/?next=/reminders/preferences/",
    )


def test_preferences_page_shows_current_choices(world, client):
    client.force_login(world.member)

    page = client.get("/reminders/preferences/").content.decode()

    assert '<option value="" selected>Each session’s own time zone</option>' in page
    assert '<input type="checkbox" name="email_reading" id="id_email_reading" checked>' in page
    assert '<option value="10080">7 days before</option>' in page


def test_preferences_page_offers_a_lead_set_through_the_api_as_it_is(world, client):
    preference_update(user=world.member, reading_lead_minutes=90)
    client.force_login(world.member)

    page = client.get("/reminders/preferences/").content.decode()

    assert '<option value="90" selected>90 minutes before</option>' in page
    assert '<option value="2880">2 days before</option>' in page


def test_preferences_page_saves_and_replans_reminders(world, session, client):
    client.force_login(world.member)

    response = client.post(
        "/reminders/preferences/",
        {"timezone": "Europe/Paris", "reading_lead_minutes": "7200", "email_reading": "on", "email_cancelled": "on"},
    )

    assert (response.status_code, response.headers["Location"]) == (302, "/reminders/preferences/")
    preference = preference_for(world.member)
    assert (preference.timezone, preference.reading_lead_minutes) == ("Europe/Paris", 5 * 24 * 60)
    assert switches(world.member) == {
        "email_reading": True,
        "email_starting": False,
        "email_changed": False,
        "email_cancelled": True,
    }
    assert outbox(recipient=world.member) == {("member", "reading", STARTS.replace(day=3), "pending")}


def test_preferences_page_rejects_an_unknown_time_zone(world, client):
    client.force_login(world.member)

    response = client.post("/reminders/preferences/", {"timezone": "Mars/Olympus_Mons", "email_reading": "on"})

    assert response.status_code == 400
    assert "Select a valid choice. Mars/Olympus_Mons is not one of the available choices." in response.content.decode()
    assert NotificationPreference.objects.filter(user=world.member).exists() is False


def test_me_api_patch_replans_reminders(world, session, api):
    response = api(world.member).patch(
        "/api/v1/me/", {"reading_lead_minutes": 1440, "notifications": {"starting": False}}
    )

    assert response.status_code == 200
    assert (response.json()["reading_lead_minutes"], response.json()["notifications"]["starting"]) == (1440, False)
    assert outbox(recipient=world.member) == {("member", "reading", STARTS.replace(day=7), "pending")}


def test_me_api_get_shows_the_brief_switch_a_patch_turned_off(world, session, api):
    before = api(world.member).get("/api/v1/me/").json()["notifications"]["brief"]

    api(world.member).patch("/api/v1/me/", {"notifications": {"brief": False}})

    assert before is True
    assert api(world.member).get("/api/v1/me/").json()["notifications"]["brief"] is False
    assert preference_for(world.member).email_brief is False


def test_me_api_reading_lead_is_in_minutes_within_the_bounds_of_group_and_session_leads(world, session, api):
    too_soon = api(world.member).patch("/api/v1/me/", {"reading_lead_minutes": 59})
    in_days = api(world.member).patch("/api/v1/me/", {"reading_lead_days": 2})
    hours = api(world.member).patch("/api/v1/me/", {"reading_lead_minutes": 90})

    assert (too_soon.status_code, list(too_soon.json()["errors"])) == (400, ["reading_lead_minutes"])
    assert (in_days.status_code, list(in_days.json()["errors"])) == (400, ["reading_lead_days"])
    assert (hours.status_code, hours.json()["reading_lead_minutes"]) == (200, 90)
    assert ("member", "reading", STARTS - timedelta(minutes=90), "pending") in outbox(recipient=world.member)


def test_me_api_giving_an_email_address_plans_the_missing_reminders(world, session, api):
    world.member.email = ""
    world.member.save()
    reminders_plan_for_session(session=session)
    before = outbox(recipient=world.member)

    api(world.member).patch("/api/v1/me/", {"email": "mira@example.org"})

    assert before == set()
    assert outbox(recipient=world.member) == {
        ("member", "reading", READING_DUE, "pending"),
        ("member", "starting", STARTING_DUE, "pending"),
    }
