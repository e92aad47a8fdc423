"""Everything Telos holds about one member, for them to download."""

from typing import Any

from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.consent_models import ConsentDocument, ConsentRecord
from app.accounts.models import User
from app.journeys.models import (
    Commitment,
    Enrolment,
    FeedbackRequest,
    JourneyVersion,
    StatementVersion,
    StepAnswer,
)
from app.surveys.models import SurveyResponse, SurveyScore


def _rows(session: Session, model: Any, *conditions: Any) -> list[Any]:
    return list(session.exec(select(model).where(*conditions).order_by(col(model.id))))


def _plain(row: Any, *leave_out: str) -> dict[str, Any]:
    # Enum columns come back from the database as plain strings; that is what we want here.
    return row.model_dump(mode="json", exclude=set(leave_out), warnings=False)


def everything(session: Session, *, user: User) -> dict[str, Any]:
    """The member's data as plain JSON-ready values; never another person's."""
    assert user.id is not None
    enrolments = _rows(session, Enrolment, Enrolment.user_id == user.id)
    ids = [enrolment.id for enrolment in enrolments]
    responses = _rows(session, SurveyResponse, SurveyResponse.user_id == user.id)
    return {
        "account": _plain(user, "password_hash", "version"),
        "roles": sorted(accounts.roles_of(session, user.id)),
        "consent": [_consent(session, record) for record in
                    _rows(session, ConsentRecord, ConsentRecord.user_id == user.id)],
        "journeys": [_enrolment(session, enrolment) for enrolment in enrolments],
        "purpose_statements": [_plain(row) for row in _rows(
            session, StatementVersion, col(StatementVersion.enrolment_id).in_(ids))],
        "commitments": [_plain(row) for row in _rows(
            session, Commitment, col(Commitment.enrolment_id).in_(ids))],
        "feedback_asked_of_you": [_plain(row) for row in _rows(
            session, FeedbackRequest, FeedbackRequest.reviewer_id == user.id)],
        "questionnaires": [_response(session, response) for response in responses],
    }


def _consent(session: Session, record: ConsentRecord) -> dict[str, Any]:
    document = session.get(ConsentDocument, record.document_id)
    return {**_plain(record), "document": document.title if document else "",
            "document_version": document.version if document else ""}


def _enrolment(session: Session, enrolment: Enrolment) -> dict[str, Any]:
    version = session.get(JourneyVersion, enrolment.journey_version_id)
    answers = _rows(session, StepAnswer, StepAnswer.enrolment_id == enrolment.id)
    return {**_plain(enrolment), "journey": version.title if version else "",
            "answers": [_plain(answer, "editor") for answer in answers]}


def _response(session: Session, response: SurveyResponse) -> dict[str, Any]:
    scores = _rows(session, SurveyScore, SurveyScore.response_id == response.id)
    return {**_plain(response),
            "scores": {score.name: score.value for score in scores}}
