"""Peer circles: a manager forms a cohort's circles (a job), reviews the draft (moves a
member, locks a circle, forms again) and publishes it. The thread, moderation and the
digest are in circle_threads.py.

Managers see who is in which circle, never what they write (but reported posts).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import jobs
from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.audit import service as audit
from app.clock import now
from app.community import service as community
from app.community.circle_models import (
    Circle,
    CircleForming,
    CircleMembership,
    CircleStatus,
    FormingStatus,
)
from app.community.models import Cohort
from app.errors import NotFound, TelosError
from app.journeys import service as journeys
from app.mail import Mail
from app.matching import circles as grouping
from app.matching import service as matching

FORM_TASK = "circles.form"


class CircleConflict(TelosError):
    status_code = 409
    title = "That change cannot be made"


# Forming ----------


def forming_of(session: Session, *, cohort_id: int) -> CircleForming | None:
    return session.exec(select(CircleForming).where(CircleForming.cohort_id == cohort_id)).first()


def start_forming(session: Session, *, cohort_id: int, by_id: int | None) -> CircleForming:
    """Asks for the grouping job; a grouping already running is left to finish, and locked
    circles of the draft keep their members."""
    community.get_cohort(session, cohort_id)
    forming = forming_of(session, cohort_id=cohort_id)
    if forming is not None and forming.status == FormingStatus.published:
        raise CircleConflict("This cohort's circles are published already; they are not "
                             "formed again.")
    if forming is not None and forming.status == FormingStatus.running:
        return forming
    if forming is None:
        forming = CircleForming(cohort_id=cohort_id, status=FormingStatus.running)
        try:
            with session.begin_nested():
                session.add(forming)
        except IntegrityError:  # another manager's click won the same moment
            found = forming_of(session, cohort_id=cohort_id)
            assert found is not None
            return found
    forming.status, forming.error = FormingStatus.running, ""
    forming.started_by_id, forming.started_at = by_id, now()
    job = jobs.enqueue(session, FORM_TASK, forming_id=forming.id)
    assert job is not None
    forming.job_id = job.id
    session.add(forming)
    session.flush()
    return forming


@dataclass(frozen=True)
class FormingInputs:
    members: list[grouping.CircleMember]
    texts: list[str]
    min_size: int
    max_size: int


def forming_inputs(session: Session, forming: CircleForming) -> FormingInputs:
    """The cohort's active members, with what they stated; members of locked circles keep
    their circle's number."""
    locked = _locked_numbers(session, cohort_id=forming.cohort_id)
    labels = community.theme_labels(session)
    members: list[grouping.CircleMember] = []
    texts: list[str] = []
    for user in _cohort_members(session, cohort_id=forming.cohort_id):
        assert user.id is not None
        profile = matching.member_profile(session, user=user)
        members.append(grouping.CircleMember(
            id=user.id, vector_index=len(members),
            themes=frozenset(labels.get(key, key) for key in profile.themes),
            languages=profile.languages or frozenset({user.locale or "en"}),
            utc_offset_hours=profile.utc_offset_hours or 0.0,
            locked_circle=locked.get(user.id)))
        texts.append(profile.text)
    return FormingInputs(members, texts, forming.min_size, forming.max_size)


def _cohort_members(session: Session, *, cohort_id: int) -> list[User]:
    users = [accounts.get_user(session, user_id)
             for user_id in journeys.cohort_member_ids(session, cohort_id=cohort_id)]
    return sorted((user for user in users if user is not None and user.is_active
                   and user.id is not None and Role.member in accounts.roles_of(session, user.id)),
                  key=lambda user: user.id or 0)


def _locked_numbers(session: Session, *, cohort_id: int) -> dict[int, int]:
    rows = session.exec(select(CircleMembership.user_id, Circle.number)
                        .join(Circle, col(Circle.id) == CircleMembership.circle_id)
                        .where(Circle.cohort_id == cohort_id, col(Circle.locked).is_(True),
                               col(CircleMembership.left_at).is_(None)))
    return {user_id: number for user_id, number in rows}


def compute(inputs: FormingInputs, *, encoder: str) -> list[grouping.CircleDraft]:
    """The grouping, with no database; raises grouping.CirclesImpossible."""
    if not inputs.members:
        return []
    similarity: np.ndarray = grouping.purpose_similarity(
        inputs.texts, [member.themes for member in inputs.members],
        encoder=matching.make_encoder(encoder))
    return grouping.form_circles(inputs.members, similarity, min_size=inputs.min_size,
                                 max_size=inputs.max_size)


def _finish(session: Session, *, forming_id: int, job_id: int, status: FormingStatus,
            error: str = "") -> bool:
    finished = session.execute(
        update(CircleForming).where(col(CircleForming.id) == forming_id,
                                    col(CircleForming.job_id) == job_id,
                                    col(CircleForming.status) == FormingStatus.running)
        .values(status=status, error=error, computed_at=now())
    ).rowcount  # type: ignore[attr-defined]
    return bool(finished)


def fail_forming(session: Session, *, forming_id: int, job_id: int, error: str) -> None:
    _finish(session, forming_id=forming_id, job_id=job_id, status=FormingStatus.failed,
            error=error)


def save_drafts(session: Session, *, forming_id: int, job_id: int,
                drafts: Sequence[grouping.CircleDraft]) -> bool:
    """Replaces the unlocked draft circles with `drafts`, if the forming still waits for
    this job; locked circles are updated in place."""
    if not _finish(session, forming_id=forming_id, job_id=job_id, status=FormingStatus.ready):
        return False
    forming = session.get(CircleForming, forming_id)
    assert forming is not None
    existing = _circles(session, cohort_id=forming.cohort_id)
    locked = {circle.number: circle for circle in existing if circle.locked}
    unlocked_ids = [circle.id for circle in existing if not circle.locked]
    session.execute(delete(CircleMembership).where(
        col(CircleMembership.circle_id).in_(unlocked_ids)))
    session.execute(delete(Circle).where(col(Circle.id).in_(unlocked_ids)))
    locks = _locked_numbers(session, cohort_id=forming.cohort_id)
    free_numbers = (number for number in range(1, 10**6) if number not in locked)
    for draft in drafts:
        numbers = {locks[user_id] for user_id in draft.members if user_id in locks}
        circle = locked[numbers.pop()] if numbers else Circle(
            cohort_id=forming.cohort_id, number=next(free_numbers), status=CircleStatus.draft)
        circle.language, circle.shared_themes = draft.language, list(draft.shared_themes)
        circle.explanation = draft.explanation
        session.add(circle)
        session.flush()
        _place(session, circle_id=circle.id or 0, user_ids=draft.members)
    session.flush()
    return True


def _place(session: Session, *, circle_id: int, user_ids: Sequence[int]) -> None:
    present = set(session.exec(select(CircleMembership.user_id)
                               .where(CircleMembership.circle_id == circle_id)))
    for user_id in user_ids:
        if user_id not in present:
            session.add(CircleMembership(circle_id=circle_id, user_id=user_id))


# Review, publishing ----------


@dataclass(frozen=True)
class CircleView:
    circle: Circle
    members: list[User]


@dataclass(frozen=True)
class Review:
    cohort: Cohort
    forming: CircleForming | None
    circles: list[CircleView]


def _circles(session: Session, *, cohort_id: int) -> list[Circle]:
    return list(session.exec(select(Circle).where(Circle.cohort_id == cohort_id)
                             .order_by(col(Circle.number))))


def active_members(session: Session, *, circle_id: int) -> list[User]:
    users = session.exec(select(User).join(CircleMembership,
                                           col(CircleMembership.user_id) == User.id)
                         .where(CircleMembership.circle_id == circle_id,
                                col(CircleMembership.left_at).is_(None)))
    return sorted(users, key=lambda user: user.display_name)


def review(session: Session, *, cohort_id: int) -> Review:
    cohort = community.get_cohort(session, cohort_id)
    views = [CircleView(circle, active_members(session, circle_id=circle.id or 0))
             for circle in _circles(session, cohort_id=cohort_id)]
    return Review(cohort, forming_of(session, cohort_id=cohort_id), views)


def _ready_forming(session: Session, *, cohort_id: int) -> CircleForming:
    forming = forming_of(session, cohort_id=cohort_id)
    if forming is None or forming.status == FormingStatus.failed:
        raise CircleConflict("There is no draft of circles for this cohort; form them first.")
    if forming.status == FormingStatus.running:
        raise CircleConflict("The circles are still being formed; change them once the "
                             "draft is ready.")
    if forming.status == FormingStatus.published:
        raise CircleConflict("These circles are published already; the draft cannot be "
                             "changed any more.")
    return forming


def cohort_circle(session: Session, *, cohort_id: int, circle_id: int) -> Circle:
    circle = session.get(Circle, circle_id)
    if circle is None or circle.cohort_id != cohort_id:
        raise NotFound("This cohort has no circle with that number.")
    return circle


def set_locked(session: Session, *, cohort_id: int, circle_id: int, locked: bool) -> Circle:
    _ready_forming(session, cohort_id=cohort_id)
    circle = cohort_circle(session, cohort_id=cohort_id, circle_id=circle_id)
    circle.locked, circle.version = locked, circle.version + 1
    session.add(circle)
    session.flush()
    return circle


def move_member(session: Session, *, cohort_id: int, user_id: int, to_circle_id: int,
                by_id: int | None) -> Circle:
    _ready_forming(session, cohort_id=cohort_id)
    target = cohort_circle(session, cohort_id=cohort_id, circle_id=to_circle_id)
    membership = session.exec(
        select(CircleMembership).join(Circle, col(Circle.id) == CircleMembership.circle_id)
        .where(Circle.cohort_id == cohort_id, CircleMembership.user_id == user_id)).first()
    if membership is None:
        raise NotFound("That member is in none of this cohort's circles.")
    source = cohort_circle(session, cohort_id=cohort_id, circle_id=membership.circle_id)
    for circle in (source, target):
        if circle.locked:
            raise CircleConflict(f"Circle {circle.number} is locked; unlock it first to "
                                 "move someone in or out of it.")
    membership.circle_id = to_circle_id
    session.add(membership)
    audit.record(session, action="circles.member_moved", actor_id=by_id,
                 target_type="user", target_id=user_id, from_circle=source.number,
                 to_circle=target.number, cohort_id=cohort_id)
    session.flush()
    return target


def publish(session: Session, *, cohort_id: int, by_id: int | None, base_url: str) -> list[Mail]:
    """Publishes the draft; the mails tell each member which circle they are in."""
    forming = _ready_forming(session, cohort_id=cohort_id)
    cohort = community.get_cohort(session, cohort_id)
    forming.status, forming.published_at = FormingStatus.published, now()
    session.add(forming)
    mails: list[Mail] = []
    for circle in _circles(session, cohort_id=cohort_id):
        circle.status = CircleStatus.published
        session.add(circle)
        for user in active_members(session, circle_id=circle.id or 0):
            mails.append(Mail(to=user.email, subject=f"Your circle in {cohort.name}", body=(
                f"Hello {user.display_name},\n\nYou are now in circle {circle.number} of "
                f"{cohort.name}, a small group of members who walk the journey together.\n"
                f"{circle.explanation}\n\nMeet your circle: {base_url}/circles/{circle.id}\n")))
    audit.record(session, action="circles.published", actor_id=by_id, target_type="cohort",
                 target_id=cohort_id, members=len(mails))
    session.flush()
    return mails
