from sqlmodel import Session, col, select

from app.accounts import consent
from app.accounts import service as accounts
from app.journeys import statements
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment, StatementVersion
from app.surveys.models import SurveyResponse, SurveyScore
from tests.browsing import Browser
from tests.factories import PASSWORD
from tests.surveys.test_results import enrolled, send


def _member_with_answers(db: Session, *, research: bool) -> tuple[str, int, int]:
    email, enrolment = enrolled(db, "walk")
    assert enrolment.id is not None
    document = consent.current_document(db)
    assert document is not None
    consent.give(db, user_id=enrolment.user_id, document=document, research_use=research)
    send(db, enrolment, Wave.pre, "happiness", 1)
    statements.save_version(db, enrolment=enrolment, text="My private purpose", parts={})
    db.commit()
    return email, enrolment.user_id, enrolment.id


def _delete(browser: Browser, email: str, password: str = PASSWORD) -> str:
    browser.login(email, PASSWORD)
    response = browser.submit("/profile/delete", {"password": password}, page="/profile/delete")
    return response.text if response.status_code != 303 else response.headers["location"]


def test_deletion_with_research_consent_keeps_only_pseudonymous_answers(
    browser: Browser, db: Session
) -> None:
    email, user_id, enrolment_id = _member_with_answers(db, research=True)
    browser.login(email, PASSWORD)
    assert "they stay, under a code" in browser.get("/profile/delete").text
    deleted = browser.submit("/profile/delete", {"password": PASSWORD}, page="/profile/delete")
    assert deleted.headers["location"] == "/"
    db.expire_all()
    assert accounts.get_user_by_email(db, email) is None
    assert db.get(Enrolment, enrolment_id) is None
    assert db.exec(select(StatementVersion).where(
        StatementVersion.user_id == user_id)).first() is None
    [kept] = db.exec(select(SurveyResponse).where(
        SurveyResponse.participant_code != "", col(SurveyResponse.user_id).is_(None))).all()
    assert kept.enrolment_id is None and kept.answers
    assert db.exec(select(SurveyScore).where(SurveyScore.response_id == kept.id)).first()


def test_deletion_without_research_consent_removes_the_answers_too(
    browser: Browser, db: Session
) -> None:
    email, user_id, _enrolment_id = _member_with_answers(db, research=False)
    assert _delete(browser, email) == "/"
    db.expire_all()
    assert db.exec(select(SurveyResponse).where(SurveyResponse.user_id == user_id)).first() is None
    assert db.exec(select(SurveyResponse).where(
        col(SurveyResponse.user_id).is_(None))).first() is None


def test_deletion_needs_the_password_and_then_signs_out(browser: Browser, db: Session) -> None:
    email, _user_id, _enrolment_id = _member_with_answers(db, research=False)
    page = _delete(browser, email, password="not my password")
    assert "nothing was deleted" in page
    assert accounts.get_user_by_email(db, email) is not None
    browser.submit("/profile/delete", {"password": PASSWORD}, page="/profile/delete")
    assert browser.get("/home").headers["location"].startswith("/login")
