"""Autosave in a real browser: it saves quietly, says so when it fails, and never overwrites."""

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts.models import Role
from app.db import make_engine
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.loader import load_all
from app.surveys import waves
from app.surveys.definitions import load_battery
from tests.browser.conftest import console_errors, expect_no_console_errors
from tests.conftest import WALK_JOURNEY
from tests.live import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "a long enough browser password"
STEP = "/journey/steps/moments"
PROMPT = "When did you feel most alive?"


def member_at_first_reflection(database_url: str) -> str:
    """A member of the walk journey whose pre wave is sent; returns the e-mail."""
    engine = make_engine(database_url)
    battery = load_battery()
    email = f"autosave-{uuid.uuid4().hex[:10]}@example.org"
    with Session(engine) as session:
        waves.store_instruments(session, battery.values())
        journeys.store_versions(session, load_all([WALK_JOURNEY], instruments=set(battery)))
        user = accounts.create_user(session, email=email, display_name="Ana",
                                    password=PASSWORD, roles=[Role.member])
        assert user.id is not None
        enrolment = journeys.enrol(session, user_id=user.id, journey_key="walk")
        response = waves.open_response(session, enrolment=enrolment, wave=Wave.pre,
                                       key="happiness")
        instrument = waves.instrument_for(session, response)
        waves.save_draft(session, response=response, answers={
            item.id: instrument.options_of(item)[0].value for item in instrument.items})
        waves.submit(session, response=response, instrument=instrument)
        for step in ("baseline", "welcome"):
            journeys.mark_done(session, enrolment=enrolment, step_id=step)
        session.commit()
    engine.dispose()
    return email


@pytest.fixture
def console() -> list[str]:
    """The console errors of `member_page`; a test that breaks the network on purpose
    checks and clears the ones it caused."""
    return []


@pytest.fixture
def member_page(chromium: Browser, server: LiveServer, console: list[str]) -> Iterator[Page]:
    email = member_at_first_reflection(server.database_url)
    context = chromium.new_context(base_url=server.url)
    context.set_default_timeout(10_000)
    console_errors(context, console)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(STEP)
    yield page
    context.close()
    expect_no_console_errors(console)


def expected_failures(page: Page, console: list[str], sign: str) -> None:
    """The errors a test provoked: some with `sign`, and none of another kind."""
    page.wait_for_timeout(200)  # the console events arrive a moment after the page shows
    assert any(sign in error for error in console), console
    unrelated = [error for error in console if "autosave" not in error and "htmx:" not in error]
    assert unrelated == [], unrelated
    console.clear()


def test_typing_is_saved_without_pressing_a_button(member_page: Page) -> None:
    member_page.get_by_label(PROMPT).fill("Planting trees with my grandmother.")
    expect(member_page.locator("#save-status")).to_contain_text("Saved at")
    member_page.reload()
    expect(member_page.get_by_label(PROMPT)).to_have_value("Planting trees with my grandmother.")


def test_a_failed_autosave_says_so_and_keeps_the_text(
    member_page: Page, console: list[str]
) -> None:
    member_page.route("**/autosave", lambda route: route.abort())
    member_page.get_by_label(PROMPT).fill("Words that must not vanish.")
    expect(member_page.locator("#save-status")).to_contain_text("Not saved")
    expect(member_page.get_by_label(PROMPT)).to_have_value("Words that must not vanish.")
    expected_failures(member_page, console, "htmx:sendError")


def test_a_server_error_on_autosave_says_so(member_page: Page, console: list[str]) -> None:
    def fail(route: Route) -> None:
        route.fulfill(status=500, body="<html><body>boom</body></html>")

    member_page.route("**/autosave", fail)
    member_page.get_by_label(PROMPT).fill("Still here after a server error.")
    expect(member_page.locator("#save-status")).to_contain_text("Not saved")
    expect(member_page.locator("#save-status")).not_to_contain_text("boom")
    expected_failures(member_page, console, "500")


def test_two_tabs_get_a_conflict_view_not_an_overwrite(member_page: Page) -> None:
    other = member_page.context.new_page()
    other.goto(STEP)
    member_page.get_by_label(PROMPT).fill("Written in the first tab.")
    expect(member_page.locator("#save-status")).to_contain_text("Saved at")
    other.get_by_label(PROMPT).fill("Written in the second tab.")
    expect(other.locator("#save-status")).to_contain_text("changed in another window")
    other.get_by_role("button", name="Save", exact=True).click()
    conflict = other.locator(".conflict")
    expect(conflict).to_contain_text("Written in the first tab.")
    expect(conflict).to_contain_text("Written in the second tab.")
    member_page.reload()
    expect(member_page.get_by_label(PROMPT)).to_have_value("Written in the first tab.")
