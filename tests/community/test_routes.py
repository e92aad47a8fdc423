"""Cohorts: a manager creates one, members join by its link, the manager sees progress."""

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.community import service as community_service
from app.community.models import Cohort
from app.journeys.models import Enrolment, EnrolmentStatus
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user
from tests.journeys.walking import another_browser, enrolment_of, sign_in, start, walk_to

SPRING = {"name": "Spring 2026", "journey": "walk", "starts_on": "2026-03-01",
          "ends_on": "2026-06-30"}


@pytest.fixture(autouse=True)
def while_spring_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Members join these cohorts while they run; an ended one takes nobody new
    (tests/journeys/test_review_races.py)."""
    moment = datetime(2026, 4, 1, 12, tzinfo=UTC)
    monkeypatch.setattr(community_service, "now", lambda: moment)


def create(manager: Browser, db: Session, form: dict[str, str] | None = None) -> Cohort:
    response = manager.submit("/cohorts", form or SPRING, page="/cohorts")
    assert response.status_code == 303, response.text
    db.expire_all()
    cohort = db.exec(select(Cohort).order_by(Cohort.id.desc())).first()  # type: ignore[union-attr]
    assert cohort is not None
    assert response.headers["location"] == f"/cohorts/{cohort.id}"
    return cohort


def test_manager_creates_a_cohort_and_sees_its_invitation_link(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    cohort = create(browser, db)
    assert (cohort.name, cohort.journey_key) == ("Spring 2026", "walk")
    assert str(cohort.starts_on) == "2026-03-01" and str(cohort.ends_on) == "2026-06-30"
    page = browser.get(f"/cohorts/{cohort.id}")
    assert "Cohort “Spring 2026” created" in page.text
    assert f'value="http://testserver/join/{cohort.invite_code}"' in page.text
    assert "Nobody has joined yet." in page.text
    assert f'<a href="/cohorts/{cohort.id}">Spring 2026</a>' in browser.get("/cohorts").text


def test_a_cohort_ending_before_it_starts_is_refused_with_the_input_kept(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = browser.submit("/cohorts", {**SPRING, "ends_on": "2026-02-01"}, page="/cohorts")
    assert response.status_code == 400
    assert "The end date must be on or after the start date." in response.text
    assert 'value="Spring 2026"' in response.text
    assert 'value="2026-03-01"' in response.text and 'value="2026-02-01"' in response.text
    assert db.exec(select(Cohort)).first() is None


def test_a_cohort_needs_a_name_a_start_and_a_loaded_journey(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = browser.submit("/cohorts", {**SPRING, "name": "", "starts_on": "soon"},
                              page="/cohorts")
    assert response.status_code == 400
    assert '<small id="name-message" class="field-error">This field is required.' \
        in response.text
    assert '<small id="starts_on-message" class="field-error">Give the date as year-month-day' \
        in response.text
    unknown = browser.submit("/cohorts", {**SPRING, "journey": "nowhere"}, page="/cohorts")
    assert unknown.status_code == 400
    assert '<small id="journey-message" class="field-error">Choose one of the loaded journeys.' \
        in unknown.text
    assert db.exec(select(Cohort)).first() is None


def test_an_anonymous_visitor_is_offered_sign_up_and_log_in_that_come_back(
    browser: Browser, db: Session
) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    page = browser.get(f"/join/{cohort.invite_code}")
    assert page.status_code == 200
    assert "Join Spring 2026" in page.text
    assert f'href="/signup?next=/join/{cohort.invite_code}"' in page.text
    assert f'href="/login?next=/join/{cohort.invite_code}"' in page.text


def enrolment_of_or_none(db: Session, member: User) -> Enrolment | None:
    db.expire_all()
    return db.exec(select(Enrolment).where(Enrolment.user_id == member.id)).first()


def test_a_new_member_logs_in_from_the_link_and_joins_the_cohorts_journey(
    browser: Browser, db: Session
) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    member = create_user(db, display_name="Noor")
    join_url = f"/join/{cohort.invite_code}"
    login = browser.get(f"/login?next={join_url}")
    assert f'name="next" value="{join_url}"' in login.text
    logged_in = browser.submit("/login", {"email": member.email, "password": PASSWORD,
                                          "next": join_url})
    assert logged_in.headers["location"] == join_url
    assert "Join and begin" in browser.get(join_url).text

    asked = browser.submit(join_url, page=join_url)
    assert asked.headers["location"] == f"/consent?next={join_url}"
    assert enrolment_of_or_none(db, member) is None
    consented = browser.submit("/consent", {"app_use": "yes", "next": join_url},
                               page=asked.headers["location"])
    assert consented.headers["location"] == join_url
    joined = browser.submit(join_url, page=join_url)
    assert joined.status_code == 303 and joined.headers["location"] == "/journey"
    assert "Welcome to Spring 2026." in browser.get("/journey").text
    enrolment = enrolment_of(db, member)
    assert (enrolment.cohort_id, enrolment.status) == (cohort.id, EnrolmentStatus.active)
    assert "A walk through every step kind" in browser.get("/journey").text


def test_the_cohort_page_lists_its_members_with_steps_done(
    browser: Browser, db: Session
) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    walker = sign_in(browser, db)
    browser.submit(f"/join/{cohort.invite_code}", page="/home")
    walk_to(browser, "values")
    idle = another_browser(browser)
    resting = sign_in(idle, db)
    idle.submit(f"/join/{cohort.invite_code}", page="/home")
    outsider = another_browser(browser)
    start(outsider, db)

    page = manager.get(f"/cohorts/{cohort.id}").text
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(\w+)</td><td>(\d+)</td></tr>", page)
    assert sorted(rows) == sorted([(walker.display_name, "active", "3"),
                                   (resting.display_name, "active", "0")])


def test_renewing_the_link_retires_the_old_one(browser: Browser, db: Session) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    old = cohort.invite_code
    response = manager.submit(f"/cohorts/{cohort.id}/link", page=f"/cohorts/{cohort.id}")
    assert response.status_code == 303
    db.refresh(cohort)
    assert cohort.invite_code != old
    assert "the old one no longer works" in manager.get(f"/cohorts/{cohort.id}").text
    assert browser.get(f"/join/{old}").status_code == 404
    assert browser.get(f"/join/{cohort.invite_code}").status_code == 200
    member = sign_in(browser, db)
    assert browser.submit(f"/join/{old}", page="/home").status_code == 404
    db.expire_all()
    assert db.exec(select(Enrolment).where(Enrolment.user_id == member.id)).first() is None


def test_joining_a_cohort_while_on_a_journey_is_refused_and_changes_nothing(
    browser: Browser, db: Session
) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db, {**SPRING, "journey": "purpose"})
    enrolment = start(browser, db)
    response = browser.submit(f"/join/{cohort.invite_code}", page="/home")
    assert response.status_code == 409
    assert "You are on “A walk through every step kind” now" in response.text
    db.expire_all()
    assert list(db.exec(select(Enrolment).where(Enrolment.user_id == enrolment.user_id))) \
        == [enrolment]
    assert enrolment.cohort_id is None
    assert "Nobody has joined yet." in manager.get(f"/cohorts/{cohort.id}").text


def test_only_managers_run_cohorts(browser: Browser, db: Session) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    sign_in(browser, db, roles=(Role.member, Role.mentor, Role.researcher))
    assert browser.get("/cohorts").status_code == 403
    assert browser.get(f"/cohorts/{cohort.id}").status_code == 403
    assert browser.submit(f"/cohorts/{cohort.id}/link", page="/home").status_code == 403
    assert browser.submit("/cohorts", SPRING, page="/home").status_code == 403


def test_an_unknown_cohort_is_not_found(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    assert browser.get("/cohorts/999999").status_code == 404
    assert browser.get("/join/no-such-code").status_code == 404


def test_the_join_page_tells_a_non_member_why_they_cannot_join(
    browser: Browser, db: Session
) -> None:
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    sign_in(browser, db, roles=(Role.mentor,))
    page = browser.get(f"/join/{cohort.invite_code}").text
    assert "Cohorts are for members" in page and "Join and begin" not in page
