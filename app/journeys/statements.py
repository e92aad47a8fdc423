"""Purpose statements (every version kept), feedback on them, and action-plan commitments."""

import difflib
import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.clock import now
from app.errors import NotFound
from app.journeys.models import (
    Commitment,
    Enrolment,
    EnrolmentStatus,
    FeedbackRequest,
    FeedbackStatus,
    StatementVersion,
    Visibility,
)
from app.journeys.outside import state_of
from app.mail import Mail

# Statements ----------------------------------------------------------------------------


def history(session: Session, *, enrolment_id: int) -> list[StatementVersion]:
    """Every saved version, newest first."""
    return list(session.exec(
        select(StatementVersion)
        .where(StatementVersion.enrolment_id == enrolment_id)
        .order_by(col(StatementVersion.number).desc())
    ))


def latest(session: Session, *, enrolment_id: int) -> StatementVersion | None:
    return next(iter(history(session, enrolment_id=enrolment_id)), None)


def save_version(
    session: Session, *, enrolment: Enrolment, text: str, parts: dict[str, str]
) -> StatementVersion | None:
    """A new version when the text changed; None when it is the same as the last one."""
    assert enrolment.id is not None
    previous = latest(session, enrolment_id=enrolment.id)
    if previous is not None and previous.text.strip() == text.strip():
        return None
    version = StatementVersion(
        enrolment_id=enrolment.id, user_id=enrolment.user_id,
        number=(previous.number + 1) if previous else 1, text=text.strip(), parts=parts,
        visibility=previous.visibility if previous else Visibility.private,
    )
    session.add(version)
    session.flush()
    _purpose_changed(session, enrolment.id)
    return version


def publish(session: Session, *, enrolment_id: int, visibility: Visibility) -> None:
    """Visibility applies to the statement as a whole: every version of it."""
    for version in history(session, enrolment_id=enrolment_id):
        version.visibility = visibility
        session.add(version)
    session.flush()
    _purpose_changed(session, enrolment_id)


def _purpose_changed(session: Session, enrolment_id: int) -> None:
    """Matching computes the member's suggestions again (a job, after the commit)."""
    from app.matching import service as matching  # late: matching builds on journeys

    matching.statement_changed(session, enrolment_id=enrolment_id)


@dataclass(frozen=True)
class SharedStatement:
    author: str
    text: str
    created_at: object


def community_statements(session: Session, *, limit: int = 100) -> list[SharedStatement]:
    """The newest version of each statement its author published to the community."""
    newest = select(func.max(StatementVersion.id)).group_by(col(StatementVersion.enrolment_id))
    rows = session.exec(
        select(StatementVersion, User.display_name)
        .join(User, col(User.id) == StatementVersion.user_id)
        .where(col(StatementVersion.id).in_(newest),
               StatementVersion.visibility == Visibility.community)
        .order_by(col(StatementVersion.created_at).desc())
        .limit(limit)
    )
    return [SharedStatement(author=name, text=version.text, created_at=version.created_at)
            for version, name in rows]


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The change between two versions as (kind, text) runs: same, removed, added."""
    before, after = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", "".join(before[i1:i2])))
        if j2 > j1:
            runs.append(("added", "".join(after[j1:j2])))
    return runs


# Feedback ----------------------------------------------------------------------------------


def request_feedback(
    session: Session, *, statement: StatementVersion, requester_id: int, reviewer: User,
    question: str,
) -> FeedbackRequest | None:
    """A new request; None when this reviewer was already asked about this version (the
    member went back and continued again), so nobody is asked twice."""
    assert statement.id is not None and reviewer.id is not None
    asked = session.exec(select(FeedbackRequest.id).where(
        FeedbackRequest.statement_version_id == statement.id,
        FeedbackRequest.reviewer_id == reviewer.id,
    )).first()
    if asked is not None:
        return None
    request = FeedbackRequest(
        statement_version_id=statement.id, requester_id=requester_id, reviewer_id=reviewer.id,
        question=question.strip(), status=FeedbackStatus.requested,
    )
    session.add(request)
    session.flush()
    return request


@dataclass(frozen=True)
class FeedbackView:
    request: FeedbackRequest
    statement: StatementVersion
    requester_name: str
    reviewer_name: str
    # The request's status, with an open link past its date already counted as expired.
    state: FeedbackStatus


OUTSIDE_REVIEWER = "Someone you asked by e-mail"


def _reviewer_name(request: FeedbackRequest, account_name: str | None) -> str:
    """An account's name; else what the person signed with, or the address while open."""
    return account_name or request.reviewer_name or request.reviewer_email or OUTSIDE_REVIEWER


def _views(session: Session, *conditions: object) -> list[FeedbackView]:
    table = User.__table__  # type: ignore[attr-defined]
    requester, reviewer = table.alias("requester"), table.alias("reviewer")
    rows = session.exec(
        select(FeedbackRequest, StatementVersion, requester.c.display_name,
               reviewer.c.display_name)
        .join(StatementVersion,
              col(StatementVersion.id) == FeedbackRequest.statement_version_id)
        .join(requester, requester.c.id == FeedbackRequest.requester_id)
        .outerjoin(reviewer, reviewer.c.id == FeedbackRequest.reviewer_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(col(FeedbackRequest.created_at).desc())
    )
    moment = now()
    return [FeedbackView(request, statement, asker, _reviewer_name(request, giver),
                         state_of(request, moment))
            for request, statement, asker, giver in rows]


def feedback_on(session: Session, *, enrolment_id: int) -> list[FeedbackView]:
    """What the member asked for and received on their statement."""
    return _views(session, StatementVersion.enrolment_id == enrolment_id)


def inbox(session: Session, *, reviewer_id: int) -> list[FeedbackView]:
    return _views(session, FeedbackRequest.reviewer_id == reviewer_id)


def for_reviewer(session: Session, *, request_id: int, reviewer_id: int) -> FeedbackView:
    """The request only if it was sent to this reviewer; otherwise it does not exist."""
    views = _views(session, FeedbackRequest.id == request_id,
                   FeedbackRequest.reviewer_id == reviewer_id)
    if not views:
        raise NotFound("There is no feedback request for you at this address.")
    return views[0]


def give_feedback(session: Session, *, request: FeedbackRequest, comment: str) -> None:
    request.comment = comment.strip()
    request.status = FeedbackStatus.given
    request.answered_at = now()
    request.answer_seen_at = None
    session.add(request)
    session.flush()


def answered_mail(session: Session, *, request_id: int, base_url: str) -> Mail | None:
    """Tells the member who asked that an answer arrived; the answer itself stays in Telos."""
    request = session.get(FeedbackRequest, request_id)
    requester = session.get(User, request.requester_id) if request else None
    if request is None or requester is None or not requester.is_active:
        return None
    views = _views(session, FeedbackRequest.id == request_id)
    who = views[0].reviewer_name if views else OUTSIDE_REVIEWER
    return Mail(to=requester.email, subject=f"{who} answered your request for feedback",
                body=(f"Hello {requester.display_name},\n\n{who} has read your purpose "
                      "statement and sent you feedback. Read it beside your statement:\n\n"
                      f"{base_url}/purpose#fb-heading\n"))


def unseen_answers(session: Session, *, requester_id: int) -> list[FeedbackView]:
    """Answers the member has not yet read on their purpose page."""
    return _views(session, FeedbackRequest.requester_id == requester_id,
                  FeedbackRequest.status == FeedbackStatus.given,
                  col(FeedbackRequest.answer_seen_at).is_(None))


def mark_answers_seen(session: Session, *, requester_id: int) -> None:
    session.execute(update(FeedbackRequest)
                    .where(col(FeedbackRequest.requester_id) == requester_id,
                           col(FeedbackRequest.status) == FeedbackStatus.given,
                           col(FeedbackRequest.answer_seen_at).is_(None))
                    .values(answer_seen_at=now()))


# Commitments -------------------------------------------------------------------------------


def commitments(session: Session, *, enrolment_id: int) -> list[Commitment]:
    return list(session.exec(
        select(Commitment).where(Commitment.enrolment_id == enrolment_id)
        .order_by(col(Commitment.position))
    ))


def replace_plan(session: Session, *, enrolment_id: int, rows: list[tuple[str, date]]) -> None:
    """The plan becomes `rows`; a commitment already marked done keeps its done date."""
    existing = {item.text: item for item in commitments(session, enrolment_id=enrolment_id)}
    for position, (text, due_on) in enumerate(rows, start=1):
        item = existing.pop(text, None) or Commitment(
            enrolment_id=enrolment_id, position=position, text=text, due_on=due_on
        )
        item.position, item.due_on = position, due_on
        session.add(item)
    for leftover in existing.values():
        session.delete(leftover)
    session.flush()


def today_for(user: User) -> date:
    """The day it is where the member lives (an unknown zone counts as UTC)."""
    try:
        zone = ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now().astimezone(zone).date()


def overdue(session: Session, *, user: User) -> list[Commitment]:
    """The member's commitments not done by their date, in a journey they have not left."""
    return list(session.exec(
        select(Commitment).join(Enrolment, col(Enrolment.id) == Commitment.enrolment_id)
        .where(Enrolment.user_id == user.id, Enrolment.status != EnrolmentStatus.left,
               col(Commitment.done_at).is_(None), Commitment.due_on < today_for(user))
        .order_by(col(Commitment.due_on), col(Commitment.id))
    ))


def own_commitment(session: Session, *, commitment_id: int, user_id: int) -> Commitment:
    row = session.exec(
        select(Commitment)
        .join(Enrolment, col(Enrolment.id) == Commitment.enrolment_id)
        .where(Commitment.id == commitment_id, Enrolment.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("You have no commitment at this address.")
    return row


def set_done(session: Session, *, commitment: Commitment, done: bool) -> None:
    commitment.done_at = now() if done else None
    session.add(commitment)
    session.flush()
