"""Cohorts grouped into circles, made through the services and the real forming job."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.community import circles
from app.community.circle_models import Circle, CircleMembership
from app.community.models import Cohort
from app.settings import Settings
from tests.browsing import Browser
from tests.journeys.walking import another_browser, sign_in
from tests.matching.factories import create_cohort, create_member, run_jobs

FORM_JOBS = (circles.FORM_TASK,)
PURPOSES = [
    "I want to help young people learn to read and love school.",
    "Teaching children in my town, youth education is my calling.",
    "I care about the education of young people and their schools.",
    "Helping youth find their way through learning and mentoring.",
    "Protecting rivers and forests for the next generation.",
    "Restoring nature and the climate where I live.",
    "Green spaces, clean water and care for the climate.",
    "Planting trees and teaching others to protect the land.",
]


def cohort_with_members(db: Session, count: int = 4) -> tuple[Cohort, list[User]]:
    cohort = create_cohort(db)
    members = [create_member(db, cohort, name=f"Circler {chr(65 + n)}", statement=PURPOSES[n],
                             languages=["en"]) for n in range(count)]
    return cohort, members


def formed(db: Session, settings: Settings, cohort: Cohort) -> list[Circle]:
    circles.start_forming(db, cohort_id=cohort.id or 0, by_id=None)
    db.commit()
    assert run_jobs(db, settings, FORM_JOBS) == 1
    return list(db.exec(select(Circle).where(Circle.cohort_id == cohort.id)
                        .order_by(col(Circle.number))))


def published(db: Session, settings: Settings, cohort: Cohort) -> list[Circle]:
    found = formed(db, settings, cohort)
    circles.publish(db, cohort_id=cohort.id or 0, by_id=None, base_url=settings.base_url)
    db.commit()
    return found


def members_of(db: Session, circle: Circle) -> list[int]:
    return sorted(db.exec(select(CircleMembership.user_id).where(
        CircleMembership.circle_id == circle.id, col(CircleMembership.left_at).is_(None))))


def browsers_of(browser: Browser, db: Session, users: Sequence[User]) -> list[Browser]:
    """One signed-in browser per user, the first being `browser` itself."""
    found = []
    for index, user in enumerate(users):
        each = browser if index == 0 else another_browser(browser)
        sign_in(each, db, user)
        found.append(each)
    return found


def manager(browser: Browser, db: Session) -> Browser:
    other = another_browser(browser)
    sign_in(other, db, roles=(Role.manager,))
    return other
