"""Recomputing stored scores from the raw answers, e.g. after a scoring fix.

The raw answers never change. Each score that changes is rewritten, and its old
value is kept in the audit log with the instrument version used for the new one.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.audit import service as audit
from app.research import service as research
from app.surveys import waves
from app.surveys.models import ResponseStatus, SurveyResponse, SurveyScore


@dataclass
class Rescored:
    responses: int = 0
    changed: int = 0


def rescore(session: Session, *, instrument_key: str | None = None) -> Rescored:
    """Scores every submitted response with the newest loaded version of its instrument."""
    query = select(SurveyResponse).where(SurveyResponse.status == ResponseStatus.submitted)
    if instrument_key:
        query = query.where(SurveyResponse.instrument_key == instrument_key)
    outcome = Rescored()
    for response in session.exec(query.order_by(col(SurveyResponse.id))):
        version = waves.latest_instrument(session, response.instrument_key)
        before = _values(session, response)
        waves.store_scores(session, response=response, instrument=waves.instrument_of(version))
        after = _values(session, response)
        outcome.responses += 1
        if after != before:
            outcome.changed += 1
            audit.record(session, action="survey.rescored", actor_id=None,
                         target_type="survey_response", target_id=response.id,
                         before=before, after=after, instrument_version=version.content_hash)
    if outcome.changed:
        research.data_changed(session, instrument_key=instrument_key)
    return outcome


def _values(session: Session, response: SurveyResponse) -> dict[str, float | None]:
    rows = session.exec(select(SurveyScore).where(SurveyScore.response_id == response.id))
    return {row.name: row.value for row in rows}
