"""Mentors, cohort members with a purpose, themes and cohorts, made through the services."""

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import update
from sqlmodel import Session, col

from app.accounts.models import Role, User
from app.community import service as community
from app.community import themes
from app.community.models import Cohort
from app.jobs import runner
from app.jobs import service as job_service
from app.jobs.models import Job, JobStatus
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.models import Enrolment, Visibility
from app.matching import service as matching
from app.settings import Settings
from tests.factories import create_user

_numbers = itertools.count(1)
RUN_JOBS = ("matching.run",)
SUGGESTION_JOBS = ("matching.suggestions",)
PRIVATE_REFLECTION = "A private memory nobody else may read: the night by the river."


def create_theme(db: Session, label: str) -> str:
    """The theme's key; added when missing."""
    found = next((theme.key for theme in community.themes(db) if theme.label == label), None)
    key = found or themes.add_theme(db, label=label).key
    db.commit()
    return key


def create_cohort(db: Session, name: str | None = None) -> Cohort:
    cohort = community.create_cohort(
        db, name=name or f"Cohort {next(_numbers)}", journey_key="walk",
        starts_on=date(2026, 3, 1), ends_on=None, created_by_id=None)
    db.commit()
    return cohort


def create_mentor(
    db: Session, *, name: str | None = None, bio: str = "I help people find their way.",
    themes: Iterable[str] = (), languages: Iterable[str] = ("en",), capacity: int = 2,
    accepting: bool = True, offers: Iterable[str] = (), email: str | None = None,
) -> User:
    user = create_user(db, roles=[Role.mentor], display_name=name, email=email)
    assert user.id is not None
    matching.save_mentor_profile(
        db, user_id=user.id, bio=bio, experience="", themes=list(themes),
        languages=list(languages), offers=list(offers), capacity=capacity, accepting=accepting)
    db.commit()
    return user


def create_member(
    db: Session, cohort: Cohort | None = None, *, name: str | None = None,
    statement: str | None = None, visibility: Visibility = Visibility.private,
    themes: Iterable[str] = (), languages: Iterable[str] = (), wants: str = "",
    email: str | None = None,
) -> User:
    """A member on the test journey (in `cohort` if given) with a private reflection, and a
    purpose statement at `visibility` when `statement` is given."""
    user = create_user(db, roles=[Role.member], display_name=name, email=email)
    assert user.id is not None
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="walk",
                               cohort_id=cohort.id if cohort else None)
    journeys.save_answer(db, enrolment=enrolment, step_id="moments",
                         data={"responses": {"alive": PRIVATE_REFLECTION, "hard": ""}},
                         base_version=0, editor="factory", done=True)
    if statement:
        _statement(db, enrolment, statement, visibility)
    matching.save_preferences(db, user_id=user.id, themes=list(themes),
                              languages=list(languages), wishes=[], wants=wants)
    db.commit()
    return user


def _statement(db: Session, enrolment: Enrolment, text: str, visibility: Visibility) -> None:
    assert enrolment.id is not None
    statements.save_version(db, enrolment=enrolment, text=text, parts={})
    statements.publish(db, enrolment_id=enrolment.id, visibility=visibility)


def run_jobs(db: Session, settings: Settings, names: Iterable[str]) -> int:
    """Runs the due queued jobs of these tasks once, their real code in the test's
    transaction (as tests.jobs.run_due_jobs does for every task); how many ran."""

    @contextmanager
    def sessions() -> Iterator[Session]:
        with db.begin_nested():
            yield db

    ran = 0
    for job_id in job_service.due_ids(db, names=list(names)):
        try:
            ran += runner.run_job(job_id, sessions=sessions, settings=settings,
                                  worker="test").ran
        except runner.JobFailed:
            ran += 1
    db.expire_all()
    return ran


def let_time_pass(db: Session, names: Iterable[str]) -> None:
    """The queued jobs of these tasks come due now, as after their delay (a retry's
    backoff, the coalescing window) has passed."""
    db.execute(update(Job).where(col(Job.status) == JobStatus.queued,
                                 col(Job.name).in_(list(names)))
               .values(run_after=Job.created_at))
    db.flush()
