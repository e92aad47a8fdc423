"""Found in review: a refused step keeps its page's editor; the match step's preference
errors come back on the step; an ended cohort takes nobody new (on a frozen clock)."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from app.community import service as community
from app.journeys.models import Enrolment
from tests.browsing import Browser
from tests.journeys.walking import (
    StepPage,
    answer,
    open_step,
    post_step,
    sign_in,
    start,
    walk_to,
)
from tests.matching.factories import create_cohort, create_theme


def rendered(response: object, url: str) -> StepPage:
    return StepPage(url, response)  # type: ignore[arg-type]


@pytest.mark.parametrize("refusal", [
    {"prompt-alive": "x" * 501, "action": "continue"},  # refused before it is stored
    {"prompt-alive": "", "action": "continue"},  # stored, then missing an answer
])
def test_a_refused_step_keeps_its_editor_so_its_next_autosave_is_still_its_own(
    browser: Browser, db: Session, refusal: dict[str, str]
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    page = open_step(browser, "moments")
    first = post_step(browser, page, {"prompt-alive": "First words"}, autosave=True)
    assert first.status_code == 200, first.text
    refused = browser.client.post(page.url, data={**page.form(), **refusal})
    assert refused.status_code == 400, refused.text
    again = rendered(refused, page.url)
    assert again.hidden("editor") == page.hidden("editor")
    # An autosave the page sent before the refusal lands after it...
    late = post_step(browser, page, {"prompt-alive": "First words, and more"}, autosave=True)
    assert late.status_code == 200, late.text
    # ...and the re-rendered page's next autosave is the same editor's, not a conflict.
    going_on = post_step(browser, again, {"prompt-alive": "Going on"}, autosave=True)
    assert going_on.status_code == 200 and "Saved" in going_on.text, going_on.text
    saved = answer(db, enrolment, "moments")
    assert saved is not None and saved.data["responses"]["alive"] == "Going on"


def test_a_preferences_error_on_the_match_step_comes_back_on_the_step(
    browser: Browser, db: Session
) -> None:
    create_theme(db, "Youth and education")
    start(browser, db)
    walk_to(browser, "mentors")
    response = browser.submit("/my-mentor/preferences", {
        "themes": ["no-such-theme"], "wants": "Someone patient, please.",
        "next": "/journey/steps/mentors"}, page="/journey/steps/mentors")
    assert response.status_code == 400, response.text
    page = response.text
    assert 'action="/journey/steps/mentors"' in page  # the step, not /my-mentor
    assert "<h1>Mentor and suggestions</h1>" not in page
    assert "Choose themes from the list." in page
    assert "Someone patient, please." in page
    assert 'name="next" value="/journey/steps/mentors"' in page


def frozen_on(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    monkeypatch.setattr(community, "now", lambda: moment)


def enrolments_of(db: Session, user_id: int | None) -> list[Enrolment]:
    db.expire_all()
    return list(db.exec(select(Enrolment).where(Enrolment.user_id == user_id)))


def ended_cohort(db: Session) -> str:
    cohort = create_cohort(db, "Spring walkers")
    cohort.ends_on = date(2026, 6, 30)
    db.add(cohort)
    db.commit()
    return cohort.invite_code


def test_after_its_end_date_a_cohort_cannot_be_joined(
    browser: Browser, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = ended_cohort(db)
    member = sign_in(browser, db)
    frozen_on(monkeypatch, date(2026, 7, 1))
    page = browser.get(f"/join/{code}").text
    assert "Spring walkers ended on 2026-06-30" in page
    assert f'action="/join/{code}"' not in page
    refused = browser.submit(f"/join/{code}", page=f"/join/{code}")
    assert refused.status_code == 409
    assert re.search(r"ended on 2026-06-30, so nobody can join it", refused.text)
    assert enrolments_of(db, member.id) == []


def test_on_its_last_day_a_cohort_can_still_be_joined(
    browser: Browser, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = ended_cohort(db)
    member = sign_in(browser, db)
    frozen_on(monkeypatch, date(2026, 6, 30))
    joined = browser.submit(f"/join/{code}", page=f"/join/{code}")
    assert joined.status_code == 303, joined.text
    assert len(enrolments_of(db, member.id)) == 1
