"""A person's API tokens and a locked login, in a real browser."""

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from sessions_app.models import ApiToken

from ..factories import PASSWORD
from .axe import check_page

pytestmark = pytest.mark.browser


def test_member_makes_copies_and_revokes_a_token_on_the_preferences_page(page, login, world, screenshot):
    login(page, "member", PASSWORD)
    page.goto("/reminders/preferences/#tokens")
    page.get_by_label("Name of the new token").fill("Pack sync on my laptop")
    page.get_by_role("button", name="Make a token").click()

    key = page.get_by_label("Token").input_value()
    expect(page.get_by_text("“Pack sync on my laptop” works until")).to_be_visible()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["username"] == "member"

    page.get_by_role("link", name="Back to preferences").click()
    row = page.get_by_role("row", name="Pack sync on my laptop")
    expect(row).to_contain_text(key[:8] + "…")
    expires = ApiToken.objects.get().expires_at
    expect(row).to_contain_text(f"{expires.day} {expires:%b %Y}")
    page.locator("#tokens").scroll_into_view_if_needed()
    screenshot(page, "api-tokens")
    check_page(page, "preferences with a new token")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke Pack sync on my laptop").click()

    expect(page.get_by_text("The token “Pack sync on my laptop” is revoked")).to_be_visible()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    assert ApiToken.objects.count() == 0
    assert client.get("/api/v1/me/").status_code == 401


def test_login_page_says_the_account_is_locked_and_until_when(page, world, screenshot):
    page.goto("/accounts/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("member")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        if page.get_by_role("heading", name="Try again later").count():
            break
        page.wait_for_load_state()

    expect(page.get_by_role("alert")).to_contain_text(
        "This account is locked from your address after too many failed logins. Try again after"
    )
    expect(page.get_by_role("link", name="reset it by email")).to_be_visible()
    screenshot(page, "login-locked")
    check_page(page, "login page, account locked")
