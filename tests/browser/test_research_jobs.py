"""In a real browser, JavaScript on and off: the demo researcher asks for the zip bundle of the
demo study and downloads it once the server's worker has built it, and reads the outcome
report, which the worker computes, then asks for it again with "Recompute now".

The worker (`telos serve --with-worker`) is paused while each request is made, so the page
is certainly seen before the job has run: with JavaScript it then updates itself (htmx
polls every 2 s), without it the researcher follows the refresh link.
"""

import re
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from app.accounts import service as accounts
from app.db import make_engine, session_scope
from app.demo import DEMO_PASSWORD
from app.research import service as research
from app.research.demo import RESEARCHER_EMAIL, STUDY_SLUG
from app.research.models import OutcomeCache, Study
from tests.databases import fresh_database_url
from tests.live import LiveServer

pytestmark = pytest.mark.browser

DEMO_STUDY = "Demo: purpose journey pilot"
# htmx asks every 2 s; the worker picks a job up within a second, and CI may be slow.
JOB_TIMEOUT_MS = 60_000
REFRESH_PAUSE_MS = 500  # between two refreshes, as a person would wait a moment
BUNDLE_MEMBERS = {"long.csv", "wide.csv", "scores.csv", "answers.parquet", "wide.sav",
                  "wide.dta", "codebook.csv", "codebook.html", "analysis.R", "analysis.sps",
                  "apa_table.csv", "apa_table.md", "manifest.json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server with the demo data loaded, as `make run` leaves it. The demo goes in
    before the server starts, as there: its long write would keep the starting worker
    waiting for SQLite's lock."""
    directory = tmp_path_factory.mktemp("research")
    live = LiveServer(fresh_database_url("sqlite", directory, "telos_research"), directory)
    load_demo(live)
    with live:
        yield live


def load_demo(server: LiveServer) -> None:
    try:
        server.telos("db", "upgrade")
        server.telos("demo")
    except subprocess.CalledProcessError as error:
        pytest.fail(f"`telos {' '.join(error.cmd[1:])}` exited with {error.returncode}:\n"
                    f"{error.stdout}\n"
                    f"{error.stderr[-4000:]}", pytrace=False)


def log_in_as_researcher(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(RESEARCHER_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def open_study(page: Page, title: str) -> None:
    page.goto("/research")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def study_of_the_demo_cohort(server: LiveServer) -> str:
    """A new study of the demo researcher over the demo cohort, so its outcome report has
    never been computed; written straight into the server's database. Returns its title."""
    title = f"Pilot re-analysis {uuid.uuid4().hex[:6]}"
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        demo_study = research.study_by_slug(session, STUDY_SLUG)
        researcher = accounts.get_user_by_email(session, RESEARCHER_EMAIL)
        assert demo_study is not None and researcher is not None and researcher.id is not None
        research.create_study(
            session, title=title, slug="", description="", battery={}, free_text=False,
            cohort_ids=research.cohort_ids_of(session, demo_study),
            consent_key=demo_study.consent_key, creator_id=researcher.id)
    engine.dispose()
    return title


def computed_version(server: LiveServer, title: str) -> int | None:
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        study = session.exec(select(Study).where(Study.title == title)).one()
        cache = session.get(OutcomeCache, study.id)
        version = cache.computed_version if cache is not None else None
    engine.dispose()
    return version


def watch_navigations(page: Page) -> list[str]:
    navigations: list[str] = []
    page.on("framenavigated",
            lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    return navigations


def refresh_until_gone(page: Page, link: Locator) -> int:
    """Follow the refresh link, now and then, a bounded number of times, until the page no
    longer offers it; returns how many times it was followed."""
    for followed in range(JOB_TIMEOUT_MS // REFRESH_PAUSE_MS):
        if not link.count():
            return followed
        page.wait_for_timeout(REFRESH_PAUSE_MS)
        with page.expect_navigation():
            link.click()
    pytest.fail(f"still offered a refresh after {JOB_TIMEOUT_MS} ms", pytrace=False)


def test_the_bundle_is_built_by_the_worker_then_downloaded(
    page: Page, server: LiveServer, javascript: bool, tmp_path: Path
) -> None:
    log_in_as_researcher(page)
    open_study(page, DEMO_STUDY)
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Export").click()
    newest = page.locator("#export-files tbody tr").first
    building = page.get_by_role("status").filter(has_text="A file is being built")
    with server.worker_paused():
        page.get_by_role(
            "button", name="Build file: Everything in one zip, with a manifest").click()
        expect(page.get_by_text("Your file is being built (Everything in one zip")).to_be_visible()
        expect(building).to_be_visible()
        expect(newest).to_contain_text("waiting to be built")
        expect(newest.get_by_role("link", name=re.compile("^Download"))).to_have_count(0)
        export_url = page.url
        if javascript:  # a mark that a reload or a navigation would wipe out
            page.evaluate("window.telosTestMarker = 'still the same page'")
        navigations = watch_navigations(page)

    download_link = newest.get_by_role("link", name=re.compile("^Download"))
    if javascript:
        expect(download_link).to_have_count(1, timeout=JOB_TIMEOUT_MS)
        expect(building).to_have_count(0)
        assert page.evaluate("window.telosTestMarker") == "still the same page"
        assert navigations == [] and page.url == export_url
    else:
        refreshed = refresh_until_gone(page, page.get_by_role("link", name="show the list again"))
        assert refreshed >= 1 and len(navigations) == refreshed
        expect(download_link).to_have_count(1)
    expect(newest).to_contain_text("ready")

    with page.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert download.suggested_filename == f"{STUDY_SLUG}-export.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        assert bundle.testzip() is None
        assert set(bundle.namelist()) == BUNDLE_MEMBERS
        long_csv = bundle.read("long.csv").decode("utf-8-sig")
    assert long_csv.startswith("participant,wave,")
    assert "@demo.example.org" not in long_csv and "Demo participant" not in long_csv

    # From the study's overview page too.
    open_study(page, DEMO_STUDY)
    files = page.get_by_role("region", name="Your export files")
    expect(files.get_by_role("link", name=re.compile("^Download"))).not_to_have_count(0)
    files.get_by_role("link", name=re.compile("All your files")).click()
    expect(page).to_have_url(re.compile(r"/export#your-files$"))


def test_the_outcome_report_is_computed_then_recomputed(
    page: Page, server: LiveServer, javascript: bool
) -> None:
    title = study_of_the_demo_cohort(server)
    log_in_as_researcher(page)
    open_study(page, title)
    computing = page.get_by_role("status").filter(has_text="The report is being computed")
    newer = page.get_by_role("status").filter(has_text="A newer report is being computed")
    computed_at = page.get_by_text(re.compile(r"^Computed at \d\d:\d\d \(UTC\) on "))
    refresh = page.get_by_role("link", name="show the report again")
    with server.worker_paused():
        page.get_by_role("navigation", name="Study").get_by_role(
            "link", name="Outcome report").click()
        expect(computing).to_be_visible()
        expect(computed_at).to_have_count(0)
        report_url = page.url
        if javascript:
            page.evaluate("window.telosTestMarker = 'still the same page'")
        navigations = watch_navigations(page)
    if javascript:
        expect(computed_at).to_be_visible(timeout=JOB_TIMEOUT_MS)
        assert page.evaluate("window.telosTestMarker") == "still the same page"
        assert navigations == [] and page.url == report_url
    else:
        refresh_until_gone(page, refresh)
        expect(computed_at).to_be_visible()
    expect(computing).to_have_count(0)
    table = page.get_by_role("table", name="Waves pre and post, variable by variable")
    expect(table.locator("tbody tr")).not_to_have_count(0)
    first = computed_version(server, title)
    assert first is not None

    with server.worker_paused():
        page.get_by_role("button", name="Recompute now").click()
        expect(page.get_by_text("The report is being computed again")).to_be_visible()
        expect(newer).to_be_visible()
        expect(computed_at).to_be_visible()  # the last report stays while the next is made
    if javascript:
        expect(newer).to_have_count(0, timeout=JOB_TIMEOUT_MS)
    else:
        refresh_until_gone(page, refresh)
    expect(computed_at).to_be_visible()
    second = computed_version(server, title)
    assert second is not None and second > first
