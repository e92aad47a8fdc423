"""In a real browser, JavaScript on and off: a manager runs the matcher for a cohort, pins one
pair, excludes another, re-runs and publishes; the mentor then accepts their new mentee.

The server's own worker computes each run (`telos serve --with-worker`), so the draft comes
after the run page: with JavaScript the page swaps it in by itself (htmx polls `#run` every
2 s), without it the manager clicks Refresh.
"""

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from app.accounts import service as accounts
from app.accounts.models import Role
from app.community import service as community
from app.db import make_engine, session_scope
from app.journeys import service as journeys
from app.matching import service as matching
from app.matching.models import Match, MatchRun, MatchStatus, RunStatus
from tests.databases import fresh_database_url
from tests.live import TELOS, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "a long enough matching password"
STARTED = ("The matcher is running. The draft appears on this page; nothing is sent until you "
           "publish it.")
# htmx asks every 2 s; the worker picks a job up within a second, and CI may be slow.
DRAFT_TIMEOUT_MS = 60_000
REFRESH_PAUSE_MS = 500  # between two clicks on Refresh, as a person would wait a moment


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server with the journeys loaded, so members can be enrolled in a cohort."""
    directory = tmp_path_factory.mktemp("matching")
    live = LiveServer(fresh_database_url("sqlite", directory, "telos_matching"), directory)
    env = live.environment()
    for command in (("db", "upgrade"), ("journeys", "load")):
        subprocess.run([str(TELOS), *command], env=env, cwd=directory, check=True,
                       capture_output=True, timeout=120)
    with live:
        yield live


@dataclass(frozen=True)
class Cohort:
    name: str
    manager: str
    mentors: tuple[str, str]
    members: tuple[str, str]


def cohort_with_people(server: LiveServer) -> Cohort:
    """A cohort of two members and two mentors, written straight into the server's database."""
    tag = uuid.uuid4().hex[:6]
    cohort = Cohort(f"Circle {tag}", f"manager-{tag}@example.org",
                    (f"Mentor Ana {tag}", f"Mentor Bo {tag}"),
                    (f"Member Cy {tag}", f"Member Di {tag}"))
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        accounts.create_user(session, email=cohort.manager, display_name="Manager",
                             password=PASSWORD, roles=[Role.manager])
        for name in cohort.mentors:
            mentor = accounts.create_user(session, email=_email(name), display_name=name,
                                          password=PASSWORD, roles=[Role.mentor])
            matching.save_mentor_profile(session, user_id=mentor.id or 0, bio=f"I am {name}.",
                                         languages=["en"], capacity=2, accepting=True)
        made = community.create_cohort(session, name=cohort.name, journey_key="purpose",
                                       starts_on=date(2026, 1, 1), ends_on=None,
                                       created_by_id=None)
        for name in cohort.members:
            member = accounts.create_user(session, email=_email(name), display_name=name,
                                          password=PASSWORD, roles=[Role.member])
            journeys.enrol(session, user_id=member.id or 0, journey_key="purpose",
                           cohort_id=made.id)
    engine.dispose()
    return cohort


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.org"


def mentor_of(server: LiveServer, member_name: str) -> tuple[str, str]:
    """(mentor e-mail, status) of the member's newest match, read from the database."""
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        member = accounts.get_user_by_email(session, _email(member_name))
        assert member is not None
        match = session.exec(select(Match).where(Match.member_id == member.id)
                             .order_by(Match.id.desc())).first()  # type: ignore[union-attr]
        assert match is not None
        mentor = accounts.get_user(session, match.mentor_id)
        assert mentor is not None
        found = mentor.email, str(match.status)
    engine.dispose()
    return found


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def log_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def row_of(page: Page, member_name: str) -> Locator:
    return page.locator("tr", has_text=member_name)


def wait_for_draft(page: Page, javascript: bool, member_name: str) -> None:
    """Until the draft shows the member's row, as a person waits for it: with JavaScript the
    page updates itself; without, they click Refresh now and then (a bounded number of
    times) until the page no longer says it is running."""
    row = row_of(page, member_name)
    if javascript:
        expect(row).to_have_count(1, timeout=DRAFT_TIMEOUT_MS)
        return
    for _ in range(DRAFT_TIMEOUT_MS // REFRESH_PAUSE_MS):
        refresh = page.get_by_role("link", name="Refresh")
        if not refresh.count():
            break
        page.wait_for_timeout(REFRESH_PAUSE_MS)
        with page.expect_navigation():
            refresh.click()
    expect(row).to_have_count(1)


def test_manager_reviews_and_publishes_then_the_mentor_accepts(
    page: Page, server: LiveServer, javascript: bool
) -> None:
    cohort = cohort_with_people(server)
    first, second = cohort.members
    log_in(page, cohort.manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Matching").click()
    page.get_by_role("button", name=f"Run the matcher for {cohort.name}").click()
    expect(page.get_by_text(STARTED)).to_be_visible()
    wait_for_draft(page, javascript, first)

    row_of(page, first).get_by_role("button", name=re.compile(r"^Pin")).click()
    expect(page.get_by_text("Pinned: a re-run keeps this pair.")).to_be_visible()
    expect(row_of(page, first).get_by_text("pinned", exact=True)).to_be_visible()
    excluded_mentor = row_of(page, second).locator("td").first.inner_text().strip()
    row_of(page, second).get_by_role("button", name=re.compile(r"^Exclude this pair")).click()
    expect(page.get_by_text("Excluded. Re-run to find this member another mentor.")) \
        .to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Re-run")).click()
    expect(page.get_by_text("Running again; pinned pairs and exclusions are kept.")) \
        .to_be_visible()
    wait_for_draft(page, javascript, second)
    expect(row_of(page, first).get_by_text("pinned", exact=True)).to_be_visible()
    expect(row_of(page, second).locator("td").first).not_to_have_text(excluded_mentor)

    page.get_by_role("button", name="Publish and tell everyone").click()
    expect(page.get_by_text("This sends 4 e-mails")).to_be_visible()
    assert mentor_of(server, first)[1] == MatchStatus.draft
    page.get_by_role("button", name="Yes, publish and send 4 e-mails").click()
    expect(page.get_by_text("Published: 2 mentors asked")).to_be_visible()
    expect(page.get_by_role("button", name="Publish and tell everyone")).to_have_count(0)
    mentor_email, status = mentor_of(server, first)
    assert status == MatchStatus.proposed
    log_out(page)

    log_in(page, mentor_email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mentees").click()
    page.get_by_role("button", name=f"Accept {first}").click()
    expect(page.get_by_text("Accepted. The member has been told")).to_be_visible()
    expect(page.get_by_role("button", name=f"Accept {first}")).to_have_count(0)
    assert mentor_of(server, first) == (mentor_email, MatchStatus.accepted)


def status_of(server: LiveServer, run_id: int) -> RunStatus:
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        run = session.get(MatchRun, run_id)
        assert run is not None
        status = run.status
    engine.dispose()
    return status


def wait_until_computed(server: LiveServer, run_id: int) -> None:
    """Until the worker has saved the run's draft, read from the database, not the page."""
    deadline = time.monotonic() + DRAFT_TIMEOUT_MS / 1000
    while (status := status_of(server, run_id)) == RunStatus.running:
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} was still running after {DRAFT_TIMEOUT_MS} ms:\n"
                        f"{server.output()[-3000:]}", pytrace=False)
        time.sleep(0.2)
    assert status == RunStatus.draft


def test_the_draft_appears_on_the_running_page_by_itself_or_on_refresh(
    page: Page, server: LiveServer, javascript: bool
) -> None:
    cohort = cohort_with_people(server)
    first, second = cohort.members
    log_in(page, cohort.manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Matching").click()
    running = page.get_by_role("status").filter(has_text="Running…")
    navigations: list[str] = []
    with server.worker_paused():
        page.get_by_role("button", name=f"Run the matcher for {cohort.name}").click()
        expect(page.get_by_text(STARTED)).to_be_visible()
        expect(running).to_be_visible()
        expect(row_of(page, first)).to_have_count(0)
        run_url = page.url
        run_id = int(run_url.rpartition("/")[2])
        if javascript:  # a mark that a reload or a navigation would wipe out
            page.evaluate("window.telosTestMarker = 'still the same page'")
        page.on("framenavigated",
                lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

        # A second start of the same cohort, from another tab, while this one runs.
        other = page.context.new_page()
        other.goto("/matching")
        other.get_by_role("button", name=f"Run the matcher for {cohort.name}").click()
        expect(other).to_have_url(run_url)
        expect(other.get_by_text(re.compile(
            r"The matcher is already running for this cohort \(run \d+, started \d\d:\d\d UTC\), "
            r"so no second run was started\."))).to_be_visible()
        other.close()

    if javascript:
        expect(row_of(page, first)).to_have_count(1, timeout=DRAFT_TIMEOUT_MS)
        expect(row_of(page, second)).to_have_count(1)
        expect(running).to_have_count(0)
        expect(page.get_by_role("button", name="Publish and tell everyone")).to_be_visible()
        assert page.evaluate("window.telosTestMarker") == "still the same page"
        assert navigations == [] and page.url == run_url
        return
    wait_until_computed(server, run_id)
    # Without JavaScript nothing changes by itself, even once the draft is saved...
    expect(running).to_be_visible()
    expect(row_of(page, first)).to_have_count(0)
    assert navigations == []
    # ...until the manager clicks Refresh.
    page.get_by_role("link", name="Refresh").click()
    expect(row_of(page, first)).to_have_count(1)
    expect(row_of(page, second)).to_have_count(1)
    expect(running).to_have_count(0)
    assert navigations == [run_url]
