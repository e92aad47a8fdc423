"""A study's arms: each of its cohorts may be the intervention or the comparison (wait-list)
arm, and a participant is in the arm of the cohort their answers are filed under."""

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.errors import NotFound, StaleEdit
from app.journeys.models import Enrolment
from app.research import outcome_cache
from app.research.mixed import ARMS, COMPARISON, INTERVENTION
from app.research.models import KeptEnrolment, Study, StudyCohort
from app.research.service import Participant

CHOICES = {"": "No arm", INTERVENTION: "Intervention arm",
           COMPARISON: "Comparison (wait-list) arm"}
CHUNK = 500


class UnknownArm(ValueError):
    pass


def cohort_arms(session: Session, study: Study) -> dict[int, str]:
    """Each cohort of the study with its arm ("" for none)."""
    return dict(session.exec(select(StudyCohort.cohort_id, StudyCohort.arm)
                             .where(StudyCohort.study_id == study.id)).all())


def set_arm(session: Session, *, study: Study, cohort_id: int, arm: str, was: str,
            actor_id: int) -> bool:
    """Mark the cohort as `arm` if it still is `was` (what the form showed); False when it
    already was `arm`. A change made meanwhile by someone else is refused, not overwritten."""
    if arm not in CHOICES or was not in CHOICES:
        raise UnknownArm(f"choose one of: {', '.join(CHOICES.values())}")
    current = session.exec(select(StudyCohort.arm).where(
        StudyCohort.study_id == study.id, StudyCohort.cohort_id == cohort_id)).first()
    if current is None:
        raise NotFound("That cohort is not one of this study's.")
    if current == arm:
        return False
    changed = session.execute(
        update(StudyCohort)
        .where(col(StudyCohort.study_id) == study.id, col(StudyCohort.cohort_id) == cohort_id,
               col(StudyCohort.arm) == was)
        .values(arm=arm)).rowcount  # type: ignore[attr-defined]
    if not changed:
        raise StaleEdit(f"Someone marked this cohort as “{CHOICES[current].lower()}” "
                        "meanwhile. Look at the arms again and choose once more.")
    audit.record(session, action="study.arm_set", actor_id=actor_id, target_type="study",
                 target_id=study.id, cohort_id=cohort_id, arm=arm, was=was)
    assert study.id is not None
    outcome_cache.ask(session, study_id=study.id)
    return True


def participant_arms(session: Session, study: Study,
                     people: Sequence[Participant]) -> dict[str, str] | None:
    """Each participant's arm by pseudonym, or None when the study has not both arms."""
    arms = {cohort: arm for cohort, arm in cohort_arms(session, study).items() if arm}
    if not all(arm in arms.values() for arm in ARMS):
        return None
    cohort_of = _cohorts_of(session, [p.participant_code for p in people])
    found = {}
    for person in people:
        arm = arms.get(cohort_of.get(person.participant_code, -1))
        if arm:
            found[person.pseudonym] = arm
    return found


def _cohorts_of(session: Session, codes: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(codes), CHUNK):
        chunk = list(codes[start:start + CHUNK])
        for table in (Enrolment, KeptEnrolment):
            rows = session.exec(select(table.participant_code, table.cohort_id)
                                .where(col(table.participant_code).in_(chunk)))
            found.update({code: cohort for code, cohort in rows if cohort is not None})
    return found
