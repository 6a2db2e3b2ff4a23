"""Issue 10 §1: every way in is limited per address and per account, whatever X-Forwarded-For says.

The limits are the real ones from settings (LOGIN_FAILURE_LIMIT 5, a
15-minute lockout, THROTTLE_* rates); time moves with time_machine.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.test import RequestFactory
from rest_framework.test import APIClient

from core.addresses import client_address
from sessions_app.models import User
from sessions_app.services.groups import invitation_create

from ..factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
LOCKED = (
    "This account is locked from your address after too many failed logins. Try again after 10:15 UTC (in 15 minutes)."
)


def forwarded(n: int) -> dict:
    """A different made-up client address on every try, as the attack sends."""
    return {"HTTP_X_FORWARDED_FOR": f"203.0.113.{n % 250}, 198.51.100.{n % 250}"}


def token_try(client: APIClient, password: str, n: int = 0, username: str = "ada", **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **forwarded(n), **extra
    )


# --- Where an address comes from -------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "remote", "header", "expected"),
    [
        (0, "192.0.2.7", "203.0.113.9", "192.0.2.7"),  # no proxy of ours: the header is the client's own words
        (1, "10.0.0.2", "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry is ignored
        (2, "10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (0, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "", "2001:db8:1:2::"),  # an IPv6 client counts by its /64
        (0, "::ffff:192.0.2.7", "", "192.0.2.7"),
    ],
)
def test_client_address_believes_forwarded_for_only_through_trusted_proxies(
    settings, proxies, remote, header, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header)

    assert client_address(request) == expected


# --- API token -----------------------------------------------------------------------------


def test_token_rotating_forwarded_for_is_locked_out_at_the_limit_and_the_right_password_waits():
    UserFactory(username="ada")
    client = APIClient()

    with time_machine.travel(NOW, tick=False) as clock:
        wrong = [token_try(client, "wrong", n) for n in range(5)]
        right = token_try(client, PASSWORD, 99)
        clock.shift(timedelta(minutes=14, seconds=59))
        still = token_try(client, PASSWORD, 100)
        clock.shift(timedelta(seconds=2))
        after = token_try(client, PASSWORD, 101)

    assert [response.status_code for response in wrong] == [400, 400, 400, 400, 429]
    assert right.status_code == 429
    assert right.json() == {"detail": LOCKED}
    assert right.headers["Retry-After"] == "900"
    assert still.status_code == 429
    assert still.headers["Retry-After"] == "1"
    assert after.status_code == 200
    assert set(after.json()) >= {"token"}


def test_token_lock_from_one_address_leaves_the_account_open_from_another():
    UserFactory(username="ada")
    client = APIClient()

    attacker = [token_try(client, "wrong", REMOTE_ADDR="192.0.2.66").status_code for _ in range(6)]
    owner = token_try(client, PASSWORD, REMOTE_ADDR="192.0.2.10")

    assert attacker == [400, 400, 400, 400, 429, 429]
    assert owner.status_code == 200


def test_token_lock_behind_a_proxy_is_keyed_on_the_client_the_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="ada")
    client = APIClient()

    def through_proxy(password: str, client_ip: str, spoofed: str):
        return client.post(
            "/api/v1/auth/token/",
            {"username": "ada", "password": password},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, {client_ip}",
        ).status_code

    attacker = [through_proxy("wrong", "198.51.100.66", f"203.0.113.{n}") for n in range(6)]
    owner = through_proxy(PASSWORD, "198.51.100.10", "203.0.113.1")

    assert attacker == [400, 400, 400, 400, 429, 429]
    assert owner == 200


def test_token_tries_on_many_accounts_from_one_address_are_throttled_per_address():
    client = APIClient()

    with time_machine.travel(NOW, tick=False):  # Retry-After counts from the first try: no clock moves under load
        codes = [token_try(client, "wrong", n, username=f"guess{n}").status_code for n in range(12)]
        refused = token_try(client, "wrong", 50, username="guess50")

    assert codes == [400] * 10 + [429, 429]
    assert refused.headers["Retry-After"] == "60"
    assert refused.json()["detail"] == "Request was throttled. Expected available in 60 seconds."


def test_successful_login_forgets_earlier_failures_of_that_pair():
    UserFactory(username="ada")
    client = APIClient()

    for _ in range(4):
        token_try(client, "wrong")
    token_try(client, PASSWORD)
    later = [token_try(client, "wrong").status_code for _ in range(4)]

    assert later == [400, 400, 400, 400]


# --- Web login ------------------------------------------------------------------------------


def test_web_login_rotating_forwarded_for_is_locked_out_and_says_until_when(world, client):
    with time_machine.travel(NOW, tick=False) as clock:
        wrong = [
            client.post("/accounts/login/", {"username": "member", "password": "x"}, **forwarded(n)) for n in range(5)
        ]
        right = client.post("/accounts/login/", {"username": "member", "password": PASSWORD}, **forwarded(9))
        locked_in = "_auth_user_id" in client.session
        clock.shift(timedelta(minutes=15, seconds=1))
        after = client.post("/accounts/login/", {"username": "member", "password": PASSWORD}, **forwarded(10))

    assert [response.status_code for response in wrong] == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    page = right.content.decode()
    assert LOCKED in page
    assert '<a href="/accounts/password-reset/">reset it by email</a>' in page
    assert "<nav" in page  # the site's layout, not a bare message
    assert right.headers["Retry-After"] == "900"
    assert locked_in is False
    assert after.headers["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == world.member.id


def test_web_login_lock_from_one_address_leaves_another_open(world, client):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "member", "password": "x"}, REMOTE_ADDR="192.0.2.66")

    response = client.post("/accounts/login/", {"username": "member", "password": PASSWORD}, REMOTE_ADDR="192.0.2.10")

    assert response.headers["Location"] == "/"


def test_web_login_is_throttled_per_address_and_says_when(world, client):
    with time_machine.travel(NOW, tick=False):
        codes = [
            client.post("/accounts/login/", {"username": f"guess{n}", "password": "x"}).status_code for n in range(10)
        ]
        blocked = client.post("/accounts/login/", {"username": "member", "password": PASSWORD})

    assert codes == [200] * 10
    assert blocked.status_code == 429
    assert "Too many login attempts from your address. Try again after 10:01 UTC (in 1 minute)." in (
        blocked.content.decode()
    )
    assert 'value="member"' in blocked.content.decode()
    assert "_auth_user_id" not in client.session


# --- Admin login ------------------------------------------------------------------------------


def test_admin_login_is_locked_out_like_the_others(client):
    User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")

    with time_machine.travel(NOW, tick=False):
        wrong = [
            client.post("/admin/login/", {"username": "root", "password": "x"}, **forwarded(n)).status_code
            for n in range(5)
        ]
        right = client.post("/admin/login/", {"username": "root", "password": "a long admin passphrase"})

    assert wrong == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert client.get("/admin/").status_code == 302


def test_admin_login_is_throttled_per_address(client):
    codes = [
        client.post("/admin/login/", {"username": f"guess{n}", "password": "x"}, **forwarded(n)).status_code
        for n in range(11)
    ]

    assert codes == [200] * 10 + [429]


def test_admin_unlocks_by_deleting_the_access_attempt(world, client):
    for _ in range(5):
        token_try(APIClient(), "wrong", username="member")
    admin = User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    client.force_login(admin)
    [attempt] = AccessAttempt.objects.all()

    listed = client.get("/admin/axes/accessattempt/")
    client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"}
    )
    unlocked = token_try(APIClient(), PASSWORD, username="member")

    assert listed.status_code == 200
    assert "member" in listed.content.decode()
    assert AccessAttempt.objects.count() == 0
    assert unlocked.status_code == 200


# --- Password reset ------------------------------------------------------------------------------


def test_password_reset_for_one_email_stops_sending_at_the_limit(world, client):
    with time_machine.travel(NOW, tick=False):
        codes = [
            client.post("/accounts/password-reset/", {"email": "member@example.org"}, **forwarded(n)).status_code
            for n in range(5)
        ]
        refused = client.post("/accounts/password-reset/", {"email": "member@example.org"})

    assert codes == [302, 302, 302, 429, 429]
    assert [message.to for message in mail.outbox] == [["member@example.org"]] * 3
    assert (
        "Too many password resets asked for from your address or for this email. "
        "Try again after 11:00 UTC (in 60 minutes)." in refused.content.decode()
    )


def test_password_reset_from_one_address_stops_sending_at_the_limit(world, client):
    for n in range(11):
        UserFactory(username=f"reader{n}")

    codes = [
        client.post("/accounts/password-reset/", {"email": f"reader{n}@example.org"}, **forwarded(n)).status_code
        for n in range(11)
    ]

    assert codes == [302] * 10 + [429]
    assert len(mail.outbox) == 10


# --- Invitation sign-up ------------------------------------------------------------------------------


def test_signup_api_is_limited_per_email(world):
    invitation = invitation_create(group=world.group, created_by=world.organizer, max_uses=50)
    client = APIClient()

    codes = [
        client.post(
            f"/api/v1/invitations/{invitation.token}/signup/",
            {"username": f"clara{n}", "email": "clara@example.org", "password": PASSWORD},
            format="json",
            **forwarded(n),
        ).status_code
        for n in range(4)
    ]

    assert codes == [201, 201, 201, 429]
    assert User.objects.filter(email="clara@example.org").count() == 3


def test_signup_api_is_limited_per_address(world):
    invitation = invitation_create(group=world.group, created_by=world.organizer, max_uses=50)
    client = APIClient()

    codes = [
        client.post(
            f"/api/v1/invitations/{invitation.token}/signup/",
            {"username": f"new{n}", "email": f"new{n}@example.org", "password": PASSWORD},
            format="json",
            **forwarded(n),
        ).status_code
        for n in range(21)
    ]

    assert codes == [201] * 20 + [429]
    assert User.objects.filter(username__startswith="new").count() == 20


def join_page(client, invitation, username: str, email: str, **headers):
    """A visitor (signed out first) signs up on the invitation's page."""
    client.logout()
    return client.post(
        f"/join/{invitation.token}/", {"username": username, "email": email, "password": PASSWORD}, **headers
    )


def test_signup_page_is_limited_per_email_and_says_when(world, client):
    with time_machine.travel(NOW, tick=False):
        invitation = invitation_create(group=world.group, created_by=world.organizer, max_uses=50)
        codes = [join_page(client, invitation, f"clara{n}", "clara@example.org").status_code for n in range(4)]
        page = join_page(client, invitation, "clara9", "clara@example.org")

    assert codes == [302, 302, 302, 429]
    assert (
        "Too many sign-ups from your address or with this email. Try again after 11:00 UTC (in 60 minutes)."
        in page.content.decode()
    )
    assert User.objects.filter(email="clara@example.org").count() == 3


def test_signup_page_is_limited_per_address_and_says_when(world, client):
    """A new email each time, a new X-Forwarded-For each time too: the page counts the address it sees."""
    with time_machine.travel(NOW, tick=False):
        invitation = invitation_create(group=world.group, created_by=world.organizer, max_uses=50)
        codes = [
            join_page(client, invitation, f"new{n}", f"new{n}@example.org", **forwarded(n)).status_code
            for n in range(21)
        ]
        page = join_page(client, invitation, "late", "late@example.org", REMOTE_ADDR="127.0.0.1")

    assert codes == [302] * 20 + [429]
    assert page.status_code == 429
    assert (
        "Too many sign-ups from your address or with this email. Try again after 11:00 UTC (in 60 minutes)."
        in page.content.decode()
    )
    assert User.objects.filter(username__startswith="new").count() == 20
    assert not User.objects.filter(username="late").exists()


def test_admin_unlocks_an_account_from_the_user_list(world, client):
    for address in ("192.0.2.1", "192.0.2.2"):
        for _ in range(5):
            token_try(APIClient(), "wrong", username="member", REMOTE_ADDR=address)
    token_try(APIClient(), "wrong", username="facilitator", REMOTE_ADDR="192.0.2.1")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    response = client.post(
        "/admin/sessions_app/user/", {"action": "unlock_logins", "_selected_action": [world.member.pk]}, follow=True
    )
    unlocked = token_try(APIClient(), PASSWORD, username="member", REMOTE_ADDR="192.0.2.1")

    assert "Unlocked 1 account(s); 2 lock record(s) removed." in response.content.decode()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["facilitator"]
    assert unlocked.status_code == 200
