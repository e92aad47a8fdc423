"""The run page while its job works: "Running…", htmx polling of one block, a Refresh link
without JavaScript, the draft once done, a second start refused, a failure in words."""

import re

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.accounts.models import Role
from app.matching.models import MatchRun, RunStatus
from app.settings import Settings
from tests.browsing import Browser
from tests.journeys.walking import another_browser, sign_in
from tests.matching.factories import (
    RUN_JOBS,
    create_cohort,
    create_member,
    create_mentor,
    let_time_pass,
    run_jobs,
)

HTMX = {"HX-Request": "true"}


def start(manager: Browser, cohort_id: int | None) -> str:
    response = manager.submit(f"/matching/cohorts/{cohort_id}/runs", page="/matching")
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_the_page_shows_running_then_the_draft(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort, name="Iris Member"), create_mentor(db, name="Olaf Mentor")
    sign_in(browser, db, roles=(Role.manager,))
    url = start(browser, cohort.id)
    page = browser.get(url)
    assert "HX-Request" in page.headers["vary"]
    assert "The matcher is running." in page.text  # the message after the redirect
    assert re.search(r"<strong>Running…</strong> started \d\d:\d\d UTC", page.text)
    assert f'hx-get="{url}" hx-trigger="every 2s"' in page.text
    assert f'<a href="{url}">Refresh</a>' in page.text
    assert "Iris Member" not in page.text

    polled = browser.client.get(url, headers=HTMX)
    assert polled.status_code == 200
    assert polled.text.lstrip().startswith('<div id="run"') and "<html" not in polled.text
    assert 'hx-trigger="every 2s"' in polled.text

    assert run_jobs(db, settings, RUN_JOBS) == 1
    polled = browser.client.get(url, headers=HTMX)
    assert polled.text.lstrip().startswith('<div id="run"')
    assert "hx-trigger" not in polled.text and "Running…" not in polled.text
    assert "Iris Member" in polled.text and "Olaf Mentor" in polled.text
    assert "Publish and tell everyone" in polled.text
    assert "Iris Member" in browser.get(url).text  # and the same without JavaScript


def test_a_second_start_while_one_runs_is_refused_on_the_page(
    browser: Browser, db: Session
) -> None:
    cohort = create_cohort(db, "Harbour circle")
    create_member(db, cohort), create_mentor(db)
    sign_in(browser, db, roles=(Role.manager,))
    url = start(browser, cohort.id)
    colleague = another_browser(browser)
    sign_in(colleague, db, roles=(Role.manager,))
    assert start(colleague, cohort.id) == url  # shown the run that is going
    page = colleague.get(url).text
    assert re.search(r"The matcher is already running for this cohort \(run \d+, started "
                     r"\d\d:\d\d UTC\), so no second run was started\.", page)
    assert 'class="flash flash-error"' in page
    assert len(db.exec(select(MatchRun).where(MatchRun.cohort_id == cohort.id)).all()) == 1
    refused = colleague.submit(f"{url}/rerun", page=url)
    assert refused.status_code == 303 and refused.headers["location"] == url
    assert "no second run was started" in colleague.get(url).text


def test_changes_to_a_running_run_wait_for_its_draft(browser: Browser, db: Session) -> None:
    cohort = create_cohort(db)
    member = create_member(db, cohort)
    create_mentor(db)
    sign_in(browser, db, roles=(Role.manager,))
    url = start(browser, cohort.id)
    response = browser.submit(f"{url}/publish", page=url)
    assert response.status_code == 409 and "is still running" in response.text
    response = browser.submit(f"{url}/members/{member.id}/mentor", {"mentor_id": "1"},
                              page=url)
    assert response.status_code == 409 and "is still running" in response.text


def test_a_failed_run_says_why_and_offers_to_try_again(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort, name="Jon Member"), create_mentor(db)
    sign_in(browser, db, roles=(Role.manager,))
    url = start(browser, cohort.id)
    db.execute(update(MatchRun).where(col(MatchRun.cohort_id) == cohort.id).values(
        weights={"text": -1.0, "themes": 0.3, "time_zone": 0.1, "wishes": 0.05}))
    db.commit()
    run_jobs(db, settings, RUN_JOBS)
    for _ in range(2):
        let_time_pass(db, RUN_JOBS)
        run_jobs(db, settings, RUN_JOBS)
    page = browser.get(url).text
    assert "<strong>This run failed.</strong> The matcher stopped with this problem: every " \
        "weight must be a number of at least 0." in page
    assert "Try again</button>" in page and "hx-trigger" not in page
    assert "Traceback" not in page and "ValueError" not in page

    response = browser.submit(f"{url}/rerun", page=url)
    assert response.status_code == 303
    assert "Running…" in browser.get(url).text
    run_jobs(db, settings, RUN_JOBS)
    page = browser.get(url).text
    assert "Jon Member" in page and "This run failed" not in page
    db.expire_all()
    run = db.exec(select(MatchRun).where(MatchRun.cohort_id == cohort.id)).one()
    assert run.status == RunStatus.draft
