"""Which questionnaires a member is given in a wave, and how long they take.

A battery is the ordered list of instruments of each wave. The member's journey gives a
default; a study over the member's cohort, once the member has agreed to research under
that study's consent document, gives its own instead (several such studies: each one's
instruments, in study order, each once). Members who did not agree to research are never
asked questions only research needs.
"""

import math
from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.accounts import consent
from app.accounts.consent_models import ConsentDocument
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment
from app.research.models import Study, StudyCohort
from app.surveys.definitions import Instrument

# The time estimate shown to members, documented in docs/surveys.md: reading and
# answering one closed item, and reading a questionnaire's instructions and sending it.
SECONDS_PER_ITEM = 10
SECONDS_PER_QUESTIONNAIRE = 15


def estimated_seconds(instruments: Iterable[Instrument]) -> int:
    return sum(SECONDS_PER_QUESTIONNAIRE + SECONDS_PER_ITEM * len(instrument.items)
               for instrument in instruments)


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up: an estimate should not promise less than it takes."""
    return max(1, math.ceil(seconds / 60)) if seconds else 0


def study_battery(session: Session, enrolment: Enrolment, wave: Wave) -> list[str] | None:
    """The instruments the studies this member takes part in give in this wave, or None
    when the member takes part in none (the journey's default applies)."""
    studies = _studies_taken_part_in(session, enrolment)
    if not studies:
        return None
    keys: list[str] = []
    for study in studies:
        keys += [key for key in study.battery.get(wave.value, []) if key not in keys]
    return keys


def _studies_taken_part_in(session: Session, enrolment: Enrolment) -> list[Study]:
    if enrolment.cohort_id is None:
        return []
    studies = list(session.exec(
        select(Study).join(StudyCohort, col(StudyCohort.study_id) == Study.id)
        .where(StudyCohort.cohort_id == enrolment.cohort_id).order_by(col(Study.id))))
    if not studies or not consent.research_consent_active(session, user_id=enrolment.user_id):
        return []
    record = consent.latest_record(session, user_id=enrolment.user_id)
    document = session.get(ConsentDocument, record.document_id) if record else None
    return [study for study in studies if document and study.consent_key == document.key]
