"""Signing up, in and out in a real browser, with JavaScript on and off."""

import re
import uuid

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "a long enough browser password"
NAME_LABEL = "Your name, as others will see it"


def unique_email() -> str:
    return f"browser-{uuid.uuid4().hex[:12]}@example.org"


def sign_up(page: Page, name: str, email: str, password: str = PASSWORD) -> None:
    page.goto("/signup")
    page.get_by_label(NAME_LABEL).fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("button", name="Log out").click()


def signed_up_then_out(page: Page, name: str) -> str:
    email = unique_email()
    sign_up(page, name, email)
    expect(page).to_have_url(re.compile(r"/home$"))
    log_out(page)
    expect(page).to_have_url(re.compile(r"/login$"))
    return email


def expect_home_of(page: Page, name: str) -> None:
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")


def test_signup_lands_on_home_with_a_welcome(page: Page) -> None:
    sign_up(page, "Ada Lovelace", unique_email())
    expect_home_of(page, "Ada Lovelace")
    expect(page.get_by_role("status")).to_have_text("Welcome, Ada Lovelace.")


def test_short_password_is_explained_beside_the_field_and_keeps_what_was_typed(
    page: Page,
) -> None:
    email = unique_email()
    sign_up(page, "Grace Hopper", email, password="too short")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("Use at least 12 characters"))
    expect(page.get_by_text("Use at least 12 characters")).to_be_visible()
    expect(page.get_by_label(NAME_LABEL)).to_have_value("Grace Hopper")
    expect(page.get_by_label("E-mail")).to_have_value(email)
    expect(password).to_have_value("")


def test_logout_returns_to_login_page(page: Page) -> None:
    sign_up(page, "Alan Turing", unique_email())
    expect_home_of(page, "Alan Turing")
    log_out(page)
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    expect(navigation.get_by_role("button", name="Log out")).to_have_count(0)


def test_home_after_logout_asks_to_log_in(page: Page) -> None:
    signed_up_then_out(page, "Edsger Dijkstra")
    page.goto("/home")
    expect(page).to_have_url(re.compile(r"/login\?next=/home$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_login_with_email_and_password_lands_on_home(page: Page) -> None:
    email = signed_up_then_out(page, "Barbara Liskov")
    log_in(page, email)
    expect_home_of(page, "Barbara Liskov")
    expect(page.get_by_role("status")).to_have_text("Welcome back, Barbara Liskov.")


def test_wrong_password_is_refused_and_keeps_the_email(page: Page) -> None:
    email = signed_up_then_out(page, "Donald Knuth")
    log_in(page, email, password="not the password at all")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    expect(page.get_by_label("E-mail")).to_have_value(email)
    expect(page.get_by_label("Password")).to_have_value("")


def test_first_tab_on_landing_page_focuses_skip_link(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()


def console_problems(page: Page) -> list[str]:
    """Console errors (CSP violations among them) and uncaught exceptions, as they happen."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico by itself; the app has none (see the report).
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{message.text} at {message.location['url']}")

    def on_page_error(error: Error) -> None:
        problems.append(f"uncaught: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return problems


def htmx_version(page: Page) -> object:
    return page.evaluate("window.htmx === undefined ? null : window.htmx.version")


@pytest.mark.parametrize("javascript", [True], ids=["js-on"])
def test_pages_load_htmx_without_console_errors_or_csp_violations(page: Page) -> None:
    problems = console_problems(page)
    for path in ("/", "/signup", "/login"):
        page.goto(path)
        assert htmx_version(page), f"window.htmx is not defined on {path}"
    sign_up(page, "Margaret Hamilton", unique_email())
    expect_home_of(page, "Margaret Hamilton")
    assert htmx_version(page), "window.htmx is not defined on /home"
    page.goto("/profile")
    assert htmx_version(page), "window.htmx is not defined on /profile"
    assert problems == []
