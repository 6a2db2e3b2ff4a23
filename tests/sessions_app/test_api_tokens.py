"""Issue 10 §2: API tokens are stored hashed, expire, record their last use sparingly, and die with the password."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from sessions_app.models import ApiToken, User
from sessions_app.services.api_tokens import api_token_create
from sessions_app.tokens import key_digest

from ..factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)


def login(username: str = "ada", **body) -> dict:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD, **body}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_queries(queries) -> list[str]:
    return [query["sql"].split()[0] for query in queries if "sessions_app_apitoken" in query["sql"]]


def test_token_login_answers_token_and_expiry_and_stores_only_a_hash():
    ada = UserFactory(username="ada")

    with time_machine.travel(NOW, tick=False):
        body = login(name="pack sync")

    key = body["token"]
    assert body == {"token": key, "expires_at": "2030-06-02T10:00:00Z"}
    assert re.fullmatch(r"sc_[A-Za-z0-9_-]{43}", key)
    assert list(ApiToken.objects.values("user", "name", "prefix", "digest", "last_used_at")) == [
        {"user": ada.id, "name": "pack sync", "prefix": key[:8], "digest": key_digest(key), "last_used_at": None}
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sessions_app_apitoken WHERE row_to_json(sessions_app_apitoken)::text LIKE %s",
            [f"%{key}%"],
        )
        assert cursor.fetchone() == (0,)
    assert with_key(key).get("/api/v1/me/").json()["username"] == "ada"


def test_each_login_makes_its_own_token_with_the_default_name():
    UserFactory(username="ada")

    first, second = login()["token"], login()["token"]

    assert first != second
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["API token", "API token"]
    assert with_key(first).get("/api/v1/me/").status_code == 200


def test_token_expires_after_the_configured_days(settings):
    settings.API_TOKEN_DAYS = 30
    UserFactory(username="ada")

    with time_machine.travel(NOW, tick=False) as clock:
        key = login()["token"]
        clock.shift(timedelta(days=30) - timedelta(seconds=1))
        last_moment = with_key(key).get("/api/v1/me/")
        clock.shift(timedelta(seconds=1))
        expired = with_key(key).get("/api/v1/me/")

    assert last_moment.status_code == 200
    assert expired.status_code == 401
    assert expired.json() == {"detail": "This token has expired; make a new one."}
    assert expired.headers["WWW-Authenticate"] == "Token"


def test_unknown_or_malformed_token_is_a_401():
    assert with_key("sc_not-a-token").get("/api/v1/me/").json() == {"detail": "Invalid token."}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert client.get("/api/v1/me/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute():
    UserFactory(username="ada")
    with time_machine.travel(NOW, tick=False) as clock:
        client = with_key(login()["token"])
        writes = []
        for seconds in (0, 30, 59, 60, 61, 119, 125):
            clock.move_to(NOW + timedelta(seconds=seconds))
            with CaptureQueriesContext(connection) as queries:
                assert client.get("/api/v1/me/").status_code == 200
            writes.append(token_queries(queries).count("UPDATE"))

    assert writes == [1, 0, 0, 1, 0, 0, 1]
    assert ApiToken.objects.get().last_used_at == NOW + timedelta(seconds=125)


def test_token_authentication_costs_one_indexed_query_between_writes():
    UserFactory(username="ada")
    client = with_key(login()["token"])
    client.get("/api/v1/me/")

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/me/")

    [lookup] = [query["sql"] for query in queries if "sessions_app_apitoken" in query["sql"]]
    assert lookup.startswith("SELECT")
    assert '"sessions_app_apitoken"."digest" = ' in lookup
    assert 'INNER JOIN "sessions_app_user"' in lookup
    # Nothing else on the token's account: no transaction opened for a write that is not made (and a GET runs
    # in none of its own: core/transactions.py).
    assert [query["sql"] for query in queries if query["sql"].startswith(("SAVEPOINT", "RELEASE"))] == []


def test_token_lookup_reads_the_token_and_its_user_as_the_orm_does():
    from django.forms.models import model_to_dict

    from sessions_app.selectors import api_token_for_key

    ada = UserFactory(username="ada", display_name="Ada L.", is_staff=True)
    UserFactory(username="bob")
    with time_machine.travel(NOW, tick=False):
        token, key = api_token_create(user=ada, name="Laptop")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=NOW + timedelta(minutes=3))
    expected = ApiToken.objects.select_related("user").get(digest=key_digest(key))

    with CaptureQueriesContext(connection) as queries:
        found = api_token_for_key(key)
        user = found.user

    assert len(queries) == 1
    assert {field.attname: getattr(found, field.attname) for field in ApiToken._meta.concrete_fields} == {
        field.attname: getattr(expected, field.attname) for field in ApiToken._meta.concrete_fields
    }
    assert found.expires_at.tzinfo is not None
    assert found.last_used_at == NOW + timedelta(minutes=3)
    assert model_to_dict(user) == model_to_dict(expected.user)
    assert user.pk == ada.pk
    assert user.name == "Ada L."
    assert not found._state.adding
    assert found._state.db == "default"
    assert api_token_for_key(key + "x") is None
    assert api_token_for_key("") is None


def test_delete_auth_token_revokes_only_the_token_used():
    UserFactory(username="ada")
    laptop, phone = login()["token"], login()["token"]

    response = with_key(laptop).delete("/api/v1/auth/token/")

    assert response.status_code == 204
    assert with_key(laptop).get("/api/v1/me/").status_code == 401
    assert with_key(phone).get("/api/v1/me/").status_code == 200


# --- me/tokens ----------------------------------------------------------------------------------


def test_me_tokens_lists_my_tokens_without_keys_and_marks_the_current_one():
    ada = UserFactory(username="ada")
    api_token_create(user=UserFactory(username="bob"), name="Bob's")
    with time_machine.travel(NOW, tick=False) as clock:
        old, old_key = api_token_create(user=ada, name="Old laptop")
        clock.shift(timedelta(hours=1))
        current, key = api_token_create(user=ada, name="Phone")
        listed = with_key(key).get("/api/v1/me/tokens/")

    assert listed.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": current.id,
                "name": "Phone",
                "prefix": key[:8],
                "created_at": "2030-03-04T11:00:00Z",
                "last_used_at": "2030-03-04T11:00:00Z",
                "expires_at": "2030-06-02T11:00:00Z",
                "current": True,
            },
            {
                "id": old.id,
                "name": "Old laptop",
                "prefix": old_key[:8],
                "created_at": "2030-03-04T10:00:00Z",
                "last_used_at": None,
                "expires_at": "2030-06-02T10:00:00Z",
                "current": False,
            },
        ],
    }


@pytest.mark.parametrize("count", [1, 3])
def test_me_tokens_list_costs_the_same_for_more_tokens(world, api, django_assert_num_queries, count):
    for n in range(count):
        api_token_create(user=world.member, name=f"t{n}")

    with django_assert_num_queries(1):  # the page (it holds them all: no count); a GET opens no transaction
        assert len(api(world.member).get("/api/v1/me/tokens/").json()["results"]) == count


def test_me_tokens_post_makes_a_named_token_shown_once(world, api):
    response = api(world.member).post("/api/v1/me/tokens/", {"name": "  Pack   sync  "}, format="json")

    body = response.json()
    assert response.status_code == 201
    assert body["name"] == "Pack sync"
    assert body["prefix"] == body["token"][:8]
    assert with_key(body["token"]).get("/api/v1/me/").json()["username"] == "member"
    assert "token" not in api(world.member).get("/api/v1/me/tokens/").json()["results"][0]


def test_me_tokens_post_refuses_a_name_with_control_characters(world, api):
    response = api(world.member).post("/api/v1/me/tokens/", {"name": "Laptop\x07"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "name: Keep this on one line: it contains the control character U+0007; "
        "remove it (and any other control character)."
    )
    assert ApiToken.objects.count() == 0


def test_me_tokens_delete_revokes_one_of_mine_and_404s_for_anyone_elses(world, api):
    mine, key = api_token_create(user=world.member, name="Laptop")
    _, kept = api_token_create(user=world.member, name="Phone")
    theirs, their_key = api_token_create(user=world.organizer, name="Theirs")

    revoked = api(world.member).delete(f"/api/v1/me/tokens/{mine.id}/")
    foreign = api(world.member).delete(f"/api/v1/me/tokens/{theirs.id}/")

    assert revoked.status_code == 204
    assert foreign.status_code == 404
    assert with_key(key).get("/api/v1/me/").status_code == 401
    assert with_key(kept).get("/api/v1/me/").status_code == 200
    assert with_key(their_key).get("/api/v1/me/").status_code == 200


def test_making_a_token_drops_my_expired_ones(world):
    with time_machine.travel(NOW, tick=False) as clock:
        api_token_create(user=world.member, name="Old")
        api_token_create(user=world.organizer, name="Someone else's old one")
        clock.shift(timedelta(days=91))
        api_token_create(user=world.member, name="New")

    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["New", "Someone else's old one"]


# --- Password changes revoke every token ------------------------------------------------------------


def test_password_reset_revokes_every_token(world, client):
    _, laptop = api_token_create(user=world.member, name="Laptop")
    _, phone = api_token_create(user=world.member, name="Phone")
    _, other = api_token_create(user=world.organizer, name="Not theirs")

    client.post("/accounts/password-reset/", {"email": "member@example.org"})
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a new long passphrase", "new_password2": "a new long passphrase"}
    )

    assert done.headers["Location"] == "/accounts/reset/done/"
    assert with_key(laptop).get("/api/v1/me/").status_code == 401
    assert with_key(phone).get("/api/v1/me/").status_code == 401
    assert with_key(other).get("/api/v1/me/").status_code == 200
    assert list(ApiToken.objects.values_list("user__username", flat=True)) == ["organizer"]
    assert User.objects.get(username="member").check_password("a new long passphrase")


def test_admin_changing_a_password_revokes_every_token(world, client):
    _, key = api_token_create(user=world.member, name="Laptop")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    response = client.post(
        f"/admin/sessions_app/user/{world.member.id}/password/",
        {"password1": "another long passphrase", "password2": "another long passphrase", "usable_password": "true"},
    )

    assert response.status_code == 302
    assert with_key(key).get("/api/v1/me/").status_code == 401
    assert User.objects.get(username="member").check_password("another long passphrase")


def test_admin_disabling_password_login_revokes_every_token(world, client):
    _, key = api_token_create(user=world.member, name="Laptop")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))

    response = client.post(
        f"/admin/sessions_app/user/{world.member.id}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert response.headers["Location"] == f"/admin/sessions_app/user/{world.member.id}/change/"

    assert with_key(key).get("/api/v1/me/").status_code == 401
    assert User.objects.get(username="member").has_usable_password() is False


# --- Preferences page ----------------------------------------------------------------------------------


def test_preferences_page_lists_tokens_and_revokes_one(world, client):
    mine, key = api_token_create(user=world.member, name="Pack sync on my laptop")
    _, kept = api_token_create(user=world.member, name="Phone")
    api_token_create(user=world.organizer, name="Organizer's secret script")
    client.force_login(world.member)

    page = client.get("/reminders/preferences/").content.decode()
    revoked = client.post(f"/accounts/tokens/{mine.id}/revoke/", follow=True)

    assert "<title>Preferences · Studycircle</title>" in page
    assert page.count('<h2 id="tokens-heading"') == 1
    assert "Pack sync on my laptop" in page
    assert f"<code>{key[:8]}…</code>" in page
    assert key not in page
    assert "Organizer&#x27;s secret script" not in page
    assert revoked.redirect_chain == [("/reminders/preferences/#tokens", 302)]
    assert "The token “Pack sync on my laptop” is revoked" in revoked.content.decode()
    assert with_key(key).get("/api/v1/me/").status_code == 401
    assert with_key(kept).get("/api/v1/me/").status_code == 200


def test_preferences_page_cannot_revoke_someone_elses_token(world, client):
    theirs, key = api_token_create(user=world.organizer, name="Theirs")
    client.force_login(world.member)

    response = client.post(f"/accounts/tokens/{theirs.id}/revoke/")

    assert response.status_code == 404
    assert with_key(key).get("/api/v1/me/").status_code == 200


def test_preferences_page_makes_a_token_and_shows_its_key_once(world, client):
    client.force_login(world.member)

    response = client.post("/accounts/tokens/", {"name": "Calendar script"})
    page = response.content.decode()
    key = re.search(r'id="token-key" type="text" readonly value="(sc_[^"]+)"', page).group(1)

    assert response.headers["Cache-Control"] == "no-store"
    assert "“Calendar script” works until" in page
    assert with_key(key).get("/api/v1/me/").json()["username"] == "member"
    assert key not in client.get("/reminders/preferences/").content.decode()


# --- Tokens made before hashing --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_hashes_plaintext_tokens_so_their_holders_keep_working():
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    user = UserFactory(username="ada")
    executor = MigrationExecutor(connection)
    # Back to every app's latest: going back to 0004 also unapplied other apps' migrations that depend on
    # later sessions_app ones (readings.0009), and later tests on this database need their tables.
    leaf = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("sessions_app", "0004_api_tokens")])
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL,"
                " user_id bigint NOT NULL)"
            )
            cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old_key, NOW, user.id])
        executor = MigrationExecutor(connection)
        executor.migrate(leaf)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS authtoken_token")

    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get()
    assert (token.user_id, token.prefix, token.digest, token.created_at) == (
        user.id,
        old_key[:8],
        key_digest(old_key),
        NOW,
    )
    assert with_key(old_key).get("/api/v1/me/").json()["username"] == "ada"


def test_changepassword_command_revokes_every_token(world, monkeypatch):
    """`manage.py changepassword member`, the prompts answered, as an operator runs it."""
    _, key = api_token_create(user=world.member, name="Laptop")
    assert with_key(key).get("/api/v1/me/").status_code == 200
    answers = iter(["another long passphrase", "another long passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    out = io.StringIO()

    call_command("changepassword", "member", stdout=out)

    assert "Password changed successfully for user 'member'" in out.getvalue()
    assert with_key(key).get("/api/v1/me/").status_code == 401
    new_key = login("member", password="another long passphrase")["token"]
    listed = with_key(new_key).get("/api/v1/me/tokens/").json()
    assert [(token["prefix"], token["current"]) for token in listed["results"]] == [(new_key[:8], True)]


def test_changing_my_own_password_on_the_admin_page_revokes_every_token(client):
    root = User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    _, key = api_token_create(user=root, name="Laptop")
    client.force_login(root)

    response = client.post(
        "/admin/password_change/",
        {
            "old_password": "a long admin passphrase",
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/password_change/done/"
    assert with_key(key).get("/api/v1/me/").status_code == 401
    assert User.objects.get(username="root").check_password("another long passphrase")
    assert client.get("/admin/").status_code == 200  # still signed in on the page where it was changed


def test_the_admin_password_page_is_for_staff_only_and_needs_the_csrf_token():
    from django.test import Client

    member = User.objects.create_user("reader", "reader@example.org", "a long member passphrase")
    _, key = api_token_create(user=member, name="Phone")
    change = {
        "old_password": "a long member passphrase",
        "new_password1": "another long passphrase",
        "new_password2": "another long passphrase",
    }
    client = Client()
    client.force_login(member)

    assert client.get("/admin/password_change/").status_code == 302  # to the admin's login
    response = client.post("/admin/password_change/", change)
    assert (response.status_code, response.headers["Location"].split("?")[0]) == (302, "/admin/login/")

    root = User.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(root)
    refused = checked.post("/admin/password_change/", {**change, "old_password": "a long admin passphrase"})
    assert refused.status_code == 403

    assert User.objects.get(username="reader").check_password("a long member passphrase")
    assert User.objects.get(username="root").check_password("a long admin passphrase")
    assert with_key(key).get("/api/v1/me/").status_code == 200  # nothing changed, nothing revoked
