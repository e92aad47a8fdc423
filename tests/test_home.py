from datetime import timedelta

from sqlmodel import Session

from app.clock import now
from app.journeys import service as journeys
from app.journeys.models import EnrolmentStatus
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user


def _completed(db: Session, days_ago: int) -> str:
    member = create_user(db)
    assert member.id is not None
    enrolment = journeys.enrol(db, user_id=member.id, journey_key="walk")
    enrolment.status = EnrolmentStatus.completed
    enrolment.completed_at = now() - timedelta(days=days_ago)
    db.add(enrolment)
    db.commit()
    return member.email


def test_follow_up_is_offered_once_its_days_have_passed(browser: Browser, db: Session) -> None:
    browser.login(_completed(db, days_ago=31), PASSWORD)
    home = browser.get("/home").text
    assert "Take the follow-up questionnaire" in home
    assert browser.get("/surveys/followup/happiness").status_code == 200


def test_follow_up_says_when_it_opens(browser: Browser, db: Session) -> None:
    browser.login(_completed(db, days_ago=2), PASSWORD)
    home = browser.get("/home").text
    opens = (now() + timedelta(days=28)).date().isoformat()
    assert f"opens on {opens}" in home
    assert browser.get("/surveys/followup/happiness").status_code == 409
