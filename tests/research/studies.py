"""Factories for research tests: cohorts, members with their consent, answers, studies."""

import itertools
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session

from app.accounts import consent
from app.accounts.consent_models import ConsentDocument
from app.accounts.models import Role, User
from app.community import service as community
from app.community.models import Cohort
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment
from app.research import service
from app.research.demo import Given, store_given
from app.research.models import Study
from app.surveys import waves
from tests.factories import create_user

_numbers = itertools.count(1)


def make_cohort(db: Session, *, journey: str = "walk") -> Cohort:
    return community.create_cohort(db, name=f"Cohort {next(_numbers)}", journey_key=journey,
                                   starts_on=date(2026, 1, 5), ends_on=None, created_by_id=None)


def open_document(db: Session, *, key: str = "telos-open") -> ConsentDocument:
    """A consent document whose research consent also covers free text."""
    document = ConsentDocument(key=key, version="1", title="Open research", body="Text.",
                               content_hash=f"hash-{next(_numbers)}", research_free_text=True)
    db.add(document)
    db.flush()
    return document


def make_member(
    db: Session, cohort: Cohort, *, research: bool = True, withdrawn: bool = False,
    document: ConsentDocument | None = None, name: str | None = None,
) -> tuple[User, Enrolment]:
    number = next(_numbers)
    user = create_user(db, email=f"member{number}@example.org",
                       display_name=name or f"Member Surname{number}")
    assert user.id is not None
    document = document or consent.current_document(db)
    assert document is not None
    consent.give(db, user_id=user.id, document=document, research_use=research)
    enrolment = community.join(db, cohort=cohort, user_id=user.id)
    db.flush()
    if withdrawn:
        consent.withdraw_research(db, user_id=user.id)
    return user, enrolment


def answer(db: Session, enrolment: Enrolment, *, wave: Wave = Wave.pre,
           key: str = "happiness", value: float = 4, day: int = 0) -> None:
    """Every item of instrument `key` answered `value` (raw), sent on `day`."""
    instrument = waves.instrument_of(waves.latest_instrument(db, key))
    store_given(db, [Given(enrolment=enrolment, wave=wave, instrument=instrument, day=day,
                           answers={item.id: value for item in instrument.items})])


def make_study(
    db: Session, researcher: User, cohorts: Sequence[Cohort], *, consent_key: str = "telos",
    free_text: bool = False, slug: str | None = None,
) -> Study:
    assert researcher.id is not None
    return service.create_study(
        db, title="Pilot study", slug=slug or f"pilot-{next(_numbers)}", description="",
        cohort_ids=[cohort.id for cohort in cohorts if cohort.id is not None],
        consent_key=consent_key, battery={}, free_text=free_text, creator_id=researcher.id)


def researcher(db: Session) -> User:
    number = next(_numbers)
    return create_user(db, roles=[Role.researcher], email=f"researcher{number}@example.org",
                       display_name=f"Researcher {number}")
