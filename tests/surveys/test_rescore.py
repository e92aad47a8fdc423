from pathlib import Path

from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.journeys.definitions import Wave
from app.surveys import waves
from app.surveys.definitions import parse_instrument
from app.surveys.models import SurveyResponse, SurveyScore
from app.surveys.rescore import rescore
from app.surveys.scoring import score
from tests.surveys.test_results import enrolled, send

HAPPINESS = Path(__file__).parents[2] / "surveys" / "happiness.yaml"


def _sent_response(db: Session) -> SurveyResponse:
    _email, enrolment = enrolled(db, "walk")
    send(db, enrolment, Wave.pre, "happiness", 1)
    return db.exec(select(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolment.id)).one()


def test_rescore_repairs_a_wrong_score_from_the_raw_answers_and_logs_the_old(
    db: Session,
) -> None:
    response = _sent_response(db)
    [row] = db.exec(select(SurveyScore).where(SurveyScore.response_id == response.id)).all()
    right = row.value
    answers_before = dict(response.answers)
    row.value = -99.0
    db.add(row)
    db.flush()
    outcome = rescore(db, instrument_key="happiness")
    db.refresh(row)
    assert row.value == right
    assert outcome.changed >= 1
    assert response.answers == answers_before
    event = db.exec(select(AuditEvent).where(
        AuditEvent.action == "survey.rescored", AuditEvent.target_id == str(response.id))).one()
    assert event.details["before"] == {row.name: -99.0}


def test_rescore_uses_the_newest_instrument_version(db: Session) -> None:
    response = _sent_response(db)
    # A scoring fix: one item's reverse flag was wrong.
    text = HAPPINESS.read_text().replace("reverse: true", "reverse: false", 1)
    fixed = parse_instrument(text.encode(), source="happiness.yaml")
    waves.store_instruments(db, [fixed])
    [old] = db.exec(select(SurveyScore.value).where(SurveyScore.response_id == response.id))
    rescore(db, instrument_key="happiness")
    [row] = db.exec(select(SurveyScore).where(SurveyScore.response_id == response.id)).all()
    assert row.value == score(fixed, waves.numeric_answers(response.answers))[row.name]
    assert row.value != old
