"""The system Chromium driven by Playwright against a live server, one fresh context per test."""

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.databases import fresh_database_url
from tests.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000

# Each test browses from its own documentation-range address (the live server trusts
# X-Forwarded-For from 127.0.0.1, as behind a proxy on the same machine), so the
# per-address sign-up limit counts one test's sign-ups, not the whole module's.
_visitor_numbers = itertools.count(1)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (f"the browser tests need Debian's Chromium at {CHROMIUM} "
               "(apt-get install chromium); Playwright's own browsers are not used")
    if os.environ.get("TELOS_REQUIRE_BROWSER"):
        pytest.fail(f"TELOS_REQUIRE_BROWSER is set, but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("browser")
    with LiveServer(fresh_database_url("sqlite", directory, "telos_browser"), directory) as live:
        yield live


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def javascript(request: pytest.FixtureRequest) -> bool:
    enabled: bool = request.param
    return enabled


# A page answered 4xx (a form sent back with its messages, an autosave conflict) is the
# app speaking, and Chromium logs it as a failed load; a missing asset is a bug all the same.
_ANSWERED = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


def console_errors(context: BrowserContext, errors: list[str] | None = None) -> list[str]:
    """Every console error and uncaught script error of the context's pages, as it happens
    (a Content-Security-Policy refusal is one), added to `errors`."""
    errors = [] if errors is None else errors

    def on_console(message: ConsoleMessage) -> None:
        where = str(message.location.get("url", ""))
        if message.type != "error" or (_ANSWERED.match(message.text) and "/static/" not in where):
            return
        errors.append(f"{where}: {message.text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(f"uncaught: {error.error}"))
    return errors


def expect_no_console_errors(errors: list[str]) -> None:
    if errors:
        pytest.fail("the page logged console errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def page(chromium: Browser, server: LiveServer, javascript: bool) -> Iterator[Page]:
    number = next(_visitor_numbers)
    context = chromium.new_context(
        base_url=server.url, java_script_enabled=javascript,
        extra_http_headers={"X-Forwarded-For": f"198.51.{100 + number // 250}.{number % 250 + 1}"},
    )
    context.set_default_timeout(TIMEOUT_MS)
    errors = console_errors(context)
    yield context.new_page()
    context.close()
    expect_no_console_errors(errors)
