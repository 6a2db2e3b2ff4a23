"""Browser tests: Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Every test here is marked `@pytest.mark.browser` and gets a real server on
`live_server.url` (pytest-django's; it makes the test transactional, so rows
made with services or factories in the test are committed and the server
sees them; CI runs it on PostgreSQL). The fixtures:

- `browser`: one headless chromium for the whole run (session scope).
- `page`: a fresh browser context (its own cookies) and page per test, 1280×900.
- `new_page(width=…, height=…)`: another context in the same test, e.g. a
  second person, or a phone (375×812). Closed after the test.
- `login(page, username, password)`: signs in through the login page and waits
  for the dashboard (or `next`).
- `screenshot(page, name)`: writes <name>.png into `screenshots_dir` (a temporary
  folder; docs/screenshots/ under `make screenshots`), full page with `full_page=True`.
- `base_url`: the live server's address.

Accessibility: `from .axe import check_page`; `check_page(page, "reader with a
form open")` runs axe-core on the page as it is, at its width and at the other
(desktop/phone) width, and fails on any serious or critical violation.

A page that logs a JavaScript error or a Content-Security-Policy violation
fails its test (see `page_errors`), so nothing breaks silently.

Example:

    @pytest.mark.browser
    def test_dashboard(base_url, page, login, world):
        login(page, "member", PASSWORD)
        page.goto(base_url + "/")
        expect(page.get_by_role("heading", name="Coming up")).to_be_visible()
"""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from ..conftest import service_unavailable

# Playwright's sync API runs an event loop in the test thread, and Django refuses database
# access from a thread with a running loop unless told it is safe (here it is: the loop only
# talks to the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Short timeouts: a live server on localhost answers in milliseconds; a stuck test should fail fast.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def playwright_instance():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # pragma: no cover - requirements-dev installs it
        service_unavailable("playwright", str(error))
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not CHROMIUM.exists():
        service_unavailable("chromium", f"{CHROMIUM} is missing; install Debian's chromium package")
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


class PageErrors(list):
    """JavaScript errors and CSP violations seen by the test's pages."""

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )


@pytest.fixture
def page_errors() -> Iterator[PageErrors]:
    errors = PageErrors()
    yield errors
    assert list(errors) == []


@pytest.fixture
def new_page(browser, live_server, page_errors) -> Iterator[Callable]:
    """`new_page(width=1280, height=900, **context_options)`: a page in a fresh context (a new person)."""
    contexts = []

    def make(width: int = DESKTOP["width"], height: int = DESKTOP["height"], **options):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page_errors.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    _wait_for_requests_in_flight()


def _wait_for_requests_in_flight(timeout: float = 10.0) -> None:
    """Let the live server finish what closing the pages sent (the reader's last progress beacon)
    before the test's tables are flushed: a request still holding a table would deadlock the flush."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
            busy = cursor.fetchone()[0]
        quiet = quiet + 1 if busy == 0 else 0


@pytest.fixture
def page(new_page):
    """A fresh 1280×900 page, signed in as nobody."""
    return new_page()


@pytest.fixture
def login() -> Callable:
    """`login(page, username, password)`: sign in through the login page; returns the page."""

    def sign_in(page, username: str, password: str, next_url: str = ""):
        page.goto("/accounts/login/" + (f"?next={next_url}" if next_url else ""))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        assert "/accounts/login/" not in page.url, f"login as {username} failed"
        return page

    return sign_in


@pytest.fixture
def screenshot(screenshots_dir) -> Callable:
    """`screenshot(page, name, full_page=False)`: save <name>.png in `screenshots_dir`; returns the path."""

    def take(page, name: str, *, full_page: bool = False) -> Path:
        path = screenshots_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
        return path

    return take
