"""The manager's run page on the demo data at 1280 px, JavaScript on and off: the members
left without a mentor are one compact table, Publish is at the top, and publishing asks
first with the number of e-mails it sends."""

import re
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.db import make_engine, session_scope
from app.demo import DEMO_PASSWORD
from app.matching.models import Match, MatchRun, MatchStatus, RunStatus
from tests.browser.test_matching import DRAFT_TIMEOUT_MS, REFRESH_PAUSE_MS
from tests.databases import fresh_database_url
from tests.live import TELOS, LiveServer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
# The demo draft is 9 pairs and about 50 members waiting; one row per member waiting
# and one per pair fits in a few screens (it was 13,600 px with a form per member).
MAX_PAGE_HEIGHT = 6_000
DEMO_COHORT = "Demo cohort: purpose pilot"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("match_run_page")
    live = LiveServer(fresh_database_url("sqlite", directory, "telos_run_page"), directory)
    env = live.environment()
    for command in (("db", "upgrade"), ("journeys", "load"), ("demo",)):
        subprocess.run([str(TELOS), *command], env=env, cwd=directory, check=True,
                       capture_output=True, timeout=300)
    with live:
        yield live


def draft_pairs(server: LiveServer) -> tuple[RunStatus, int]:
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        run = session.exec(select(MatchRun).order_by(MatchRun.id.desc())).first()  # type: ignore[union-attr]
        assert run is not None
        found = run.status, len(session.exec(select(Match).where(
            Match.run_id == run.id, Match.status == MatchStatus.draft)).all())
    engine.dispose()
    return found


def wait_for_draft(page: Page, javascript: bool) -> None:
    heading = page.get_by_role("heading", name="Waiting without a mentor in this draft")
    if javascript:
        expect(heading).to_be_visible(timeout=DRAFT_TIMEOUT_MS)
        return
    for _ in range(DRAFT_TIMEOUT_MS // REFRESH_PAUSE_MS):
        refresh = page.get_by_role("link", name="Refresh")
        if not refresh.count():
            break
        page.wait_for_timeout(REFRESH_PAUSE_MS)
        with page.expect_navigation():
            refresh.click()
    expect(heading).to_be_visible()


def test_the_run_page_is_compact_and_publishing_asks_first(
    page: Page, server: LiveServer, javascript: bool
) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/login")
    page.get_by_label("E-mail").fill("manager@demo.example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    page.goto("/matching")
    page.get_by_role("button", name=f"Run the matcher for {DEMO_COHORT}").click()
    wait_for_draft(page, javascript)

    waiting = page.locator("#unmatched-form tbody tr")
    assert waiting.count() >= 40
    height = page.evaluate("() => document.documentElement.scrollHeight")
    parts = page.evaluate("""() => [...document.querySelectorAll('table, section')]
        .map(e => (e.id || e.className || e.tagName) + ' ' + e.offsetHeight).join(', ')""")
    assert height <= MAX_PAGE_HEIGHT, f"the run page is {height} px tall at 1280 px: {parts}"
    publish = page.get_by_role("button", name="Publish and tell everyone")
    assert publish.bounding_box()["y"] < DESKTOP["height"]  # type: ignore[index]

    status, pairs = draft_pairs(server)
    assert status == RunStatus.draft and pairs > 0
    publish.click()
    expect(page.get_by_text(f"This sends {2 * pairs} e-mails")).to_be_visible()
    assert draft_pairs(server) == (RunStatus.draft, pairs)
    page.get_by_role("button", name="No, back to the draft").click()
    expect(publish).to_be_visible()
    assert draft_pairs(server) == (RunStatus.draft, pairs)
