"""Cohorts: a journey walked together, joined by an invitation link."""

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.clock import now
from app.community import invites
from app.community.models import Cohort, Theme
from app.errors import NotFound, TelosError
from app.journeys import service as journeys
from app.journeys.models import Enrolment, EnrolmentStatus, StepAnswer, StepStatus


def create_cohort(
    session: Session, *, name: str, journey_key: str, starts_on: date, ends_on: date | None,
    created_by_id: int | None,
) -> Cohort:
    cohort = Cohort(name=name.strip(), journey_key=journey_key, starts_on=starts_on,
                    ends_on=ends_on, invite_code=secrets.token_urlsafe(12),
                    created_by_id=created_by_id)
    session.add(cohort)
    session.flush()
    return cohort


def cohorts(session: Session) -> list[Cohort]:
    return list(session.exec(select(Cohort).order_by(col(Cohort.starts_on).desc())))


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound("There is no cohort with that number.")
    return cohort


def by_code(session: Session, code: str) -> Cohort:
    cohort = session.exec(select(Cohort).where(Cohort.invite_code == code)).first()
    if cohort is None:
        raise NotFound("This invitation link does not work. Ask your community manager "
                       "for the current one.")
    return cohort


def new_code(session: Session, cohort: Cohort) -> None:
    """A fresh link; the old one stops working (e.g. after it was shared too widely)."""
    cohort.invite_code = secrets.token_urlsafe(12)
    session.add(cohort)
    session.flush()


class CohortEnded(TelosError):
    status_code = 409
    title = "This cohort has ended"


def has_ended(cohort: Cohort) -> bool:
    return cohort.ends_on is not None and now().date() > cohort.ends_on


def ended_message(cohort: Cohort) -> str:
    assert cohort.ends_on is not None
    return (f"{cohort.name} ended on {cohort.ends_on.isoformat()}, so nobody can join it or "
            "start its journey any more. Ask your community manager about a cohort that is "
            "running now, or start a journey on your own from your journey page.")


def join(session: Session, *, cohort: Cohort, user_id: int) -> Enrolment:
    if has_ended(cohort):
        raise CohortEnded(ended_message(cohort))
    enrolment = journeys.enrol(session, user_id=user_id, journey_key=cohort.journey_key,
                               cohort_id=cohort.id)
    user = session.get(User, user_id)
    if user is not None:
        invites.mark_joined(session, cohort_id=cohort.id or 0, user=user)
    return enrolment


@dataclass(frozen=True)
class MemberProgress:
    display_name: str
    status: str
    steps_done: int


def cohort_progress(session: Session, cohort_id: int) -> list[MemberProgress]:
    """How far each member is; counts only, never what they wrote."""
    done = (
        select(func.count()).where(col(StepAnswer.enrolment_id) == Enrolment.id,
                                   StepAnswer.status == StepStatus.done)
        .scalar_subquery()
    )
    rows = session.exec(
        select(User.display_name, Enrolment.status, done)
        .join(User, col(User.id) == Enrolment.user_id)
        .where(Enrolment.cohort_id == cohort_id)
        .order_by(col(User.display_name))
    )
    return [MemberProgress(name, EnrolmentStatus(status).value, count)
            for name, status, count in rows]


def themes(session: Session) -> list[Theme]:
    return list(session.exec(select(Theme).order_by(col(Theme.label))))


def theme_labels(session: Session) -> dict[str, str]:
    return {theme.key: theme.label for theme in themes(session)}
