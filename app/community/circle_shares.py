"""What a member chose to show their circle: a reflection step's answer or their purpose
statement. Nothing is shared by default; a member shares each item on their circle page,
sees beforehand exactly what the circle will read, and can stop sharing at any time.

The circle reads the current text of what was shared (the newest statement version, the
step's answer as it is now) with the date it was shared, never a copy: un-sharing, leaving
the circle or being removed from it takes the text off the circle page at once.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.community import circle_threads as threads
from app.community.circle_models import (
    STATEMENT_SHARE,
    STEP_SHARE_PREFIX,
    CircleMembership,
    CircleShare,
)
from app.errors import TelosError
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.definitions import ReflectionStep
from app.journeys.models import Enrolment


class NothingToShare(TelosError):
    status_code = 409
    title = "Nothing was shared"


@dataclass(frozen=True)
class Shown:
    """An item as the circle reads it: a title and (label, text) parts."""

    what: str
    title: str
    parts: list[tuple[str, str]]


@dataclass(frozen=True)
class Choice:
    shown: Shown
    shared_at: datetime | None


@dataclass(frozen=True)
class Shared:
    shown: Shown
    shared_at: datetime


def _reflection(session: Session, enrolment: Enrolment, step: ReflectionStep) -> Shown | None:
    assert enrolment.id is not None
    answer = journeys.answer_for(session, enrolment_id=enrolment.id, step_id=step.id)
    responses = answer.data.get("responses", {}) if answer else {}
    parts = [(prompt.text, str(responses.get(prompt.id, "")).strip()) for prompt in step.prompts]
    parts = [(label, text) for label, text in parts if text]
    return Shown(STEP_SHARE_PREFIX + step.id, step.title, parts) if parts else None


def _statement(session: Session, enrolment: Enrolment) -> Shown | None:
    assert enrolment.id is not None
    latest = statements.latest(session, enrolment_id=enrolment.id)
    if latest is None or not latest.text:
        return None
    return Shown(STATEMENT_SHARE, "Purpose statement", [("", latest.text)])


def shown(session: Session, enrolment: Enrolment, what: str) -> Shown | None:
    """The current text of `what` in this enrolment; None when there is none (now)."""
    if what == STATEMENT_SHARE:
        return _statement(session, enrolment)
    step = journeys.journey_of(session, enrolment).step(what.removeprefix(STEP_SHARE_PREFIX))
    if not what.startswith(STEP_SHARE_PREFIX) or not isinstance(step, ReflectionStep):
        return None
    return _reflection(session, enrolment, step)


def _shareable(session: Session, enrolment: Enrolment) -> list[Shown]:
    items = [_reflection(session, enrolment, step)
             for step in journeys.journey_of(session, enrolment).steps()
             if isinstance(step, ReflectionStep)]
    items.append(_statement(session, enrolment))
    return [item for item in items if item is not None]


def _my_shares(session: Session, *, circle_id: int, user_id: int) -> dict[str, CircleShare]:
    rows = session.exec(select(CircleShare).where(CircleShare.circle_id == circle_id,
                                                  CircleShare.user_id == user_id))
    return {share.what: share for share in rows}


def choices(session: Session, *, circle_id: int, user_id: int) -> list[Choice]:
    """What the member could share (their reflections with text, their statement), each
    with the date they shared it into this circle, if they did."""
    enrolment = journeys.current_enrolment(session, user_id=user_id)
    if enrolment is None:
        return []
    mine = _my_shares(session, circle_id=circle_id, user_id=user_id)
    return [Choice(item, mine[item.what].shared_at if item.what in mine else None)
            for item in _shareable(session, enrolment)]


def share(session: Session, *, circle_id: int, user_id: int, what: str) -> Shown:
    threads.member_circle(session, circle_id=circle_id, user_id=user_id)
    enrolment = journeys.current_enrolment(session, user_id=user_id)
    item = shown(session, enrolment, what) if enrolment is not None else None
    if enrolment is None or item is None:
        raise NothingToShare("There is nothing written there to share yet.")
    if what not in _my_shares(session, circle_id=circle_id, user_id=user_id):
        try:
            with session.begin_nested():
                session.add(CircleShare(circle_id=circle_id, user_id=user_id,
                                        enrolment_id=enrolment.id or 0, what=what))
        except IntegrityError:
            pass  # shared a moment ago from another window: shared all the same
    return item


def unshare(session: Session, *, circle_id: int, user_id: int, what: str) -> None:
    threads.member_circle(session, circle_id=circle_id, user_id=user_id)
    session.execute(delete(CircleShare).where(col(CircleShare.circle_id) == circle_id,
                                              col(CircleShare.user_id) == user_id,
                                              col(CircleShare.what) == what))
    session.flush()


def in_circle(session: Session, *, circle_id: int) -> dict[int, list[Shared]]:
    """What each member in the circle now shares, by user id; those who left share nothing."""
    rows = session.exec(
        select(CircleShare, Enrolment)
        .join(CircleMembership, (col(CircleMembership.circle_id) == CircleShare.circle_id)
              & (col(CircleMembership.user_id) == CircleShare.user_id))
        .join(Enrolment, col(Enrolment.id) == CircleShare.enrolment_id)
        .where(CircleShare.circle_id == circle_id, col(CircleMembership.left_at).is_(None))
        .order_by(col(CircleShare.shared_at), col(CircleShare.id)))
    found: dict[int, list[Shared]] = {}
    for share_row, enrolment in rows:
        item = shown(session, enrolment, share_row.what)
        if item is not None:
            found.setdefault(share_row.user_id, []).append(Shared(item, share_row.shared_at))
    return found
