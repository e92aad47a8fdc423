"""Feedback from people outside Telos: a single-use e-mailed link, no account needed.

Only the SHA-256 of the link's random token is stored. The address is kept only while
the request is open: answering, withdrawing and expiry (the hourly `forget_expired`
in app/journeys/tasks.py) all clear it. Each ending is one conditional UPDATE, so two
submissions of the same link, or an answer racing a withdrawal, end it once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import mail
from app.accounts import ratelimit
from app.accounts.models import User
from app.clock import now
from app.errors import NotFound, TelosError
from app.journeys.models import FeedbackRequest, FeedbackStatus, StatementVersion
from app.security import new_token, sign, token_hash
from app.settings import Settings

LINK_DAYS = 14
COMMENT_MAX = 3000
NAME_MAX = 80
LIMITS = (ratelimit.FEEDBACK_INVITES_PER_MEMBER, ratelimit.FEEDBACK_INVITES_PER_ADDRESS)


class TooManyInvitations(TelosError):
    status_code = 429
    title = "Too many feedback links"

    def __init__(self, limited: ratelimit.RateLimited, *, per_address: bool) -> None:
        hours = max(1, round(limited.minutes / 60))
        when = f"in about {hours} hour{'s' if hours > 1 else ''}"
        if per_address:
            super().__init__("This address has been sent as many feedback links today as "
                             f"Telos allows. You can ask this person again {when}.")
        else:
            super().__init__("You have sent as many feedback links today as Telos allows. "
                             f"You can send more {when}.")


def _address_key(settings: Settings, address: str) -> str:
    # Keyed, so a rate-limit row does not reveal the address to a dictionary of them.
    return sign(settings.signing_key, "feedback-address", address)


def _limit_keys(settings: Settings, *, requester_id: int, address: str) -> list[str]:
    return [str(requester_id), _address_key(settings, address)]


def check_limits(session: Session, *, settings: Settings, requester_id: int,
                 address: str) -> None:
    """Raise TooManyInvitations when the member, or this address, has had enough today."""
    keys = _limit_keys(settings, requester_id=requester_id, address=address)
    for limit, key in zip(LIMITS, keys, strict=True):
        try:
            ratelimit.check(session, limit, key)
        except ratelimit.RateLimited as limited:
            raise TooManyInvitations(
                limited, per_address=limit is ratelimit.FEEDBACK_INVITES_PER_ADDRESS) from None


def invite(
    session: Session, *, settings: Settings, statement: StatementVersion, requester: User,
    address: str, question: str,
) -> mail.Mail | None:
    """A new request and the mail that carries its link; None when this address already
    has an open link for this version (the member continued past the step again)."""
    assert statement.id is not None and requester.id is not None
    asked = session.exec(select(FeedbackRequest.id).where(
        FeedbackRequest.statement_version_id == statement.id,
        FeedbackRequest.reviewer_email == address,
        FeedbackRequest.status == FeedbackStatus.requested,
    )).first()
    if asked is not None:
        return None
    check_limits(session, settings=settings, requester_id=requester.id, address=address)
    for limit, key in zip(LIMITS, _limit_keys(settings, requester_id=requester.id,
                                              address=address), strict=True):
        ratelimit.hit(session, limit, key)
    token = new_token()
    request = FeedbackRequest(
        statement_version_id=statement.id, requester_id=requester.id, reviewer_id=None,
        reviewer_email=address, token_hash=token_hash(token), question=question.strip(),
        status=FeedbackStatus.requested, expires_at=now() + timedelta(days=LINK_DAYS),
    )
    session.add(request)
    session.flush()
    return _link_mail(settings, requester, request, token)


def _link_mail(settings: Settings, requester: User, request: FeedbackRequest,
               token: str) -> mail.Mail:
    assert request.expires_at is not None and request.reviewer_email is not None
    body = (
        "Hello,\n\n"
        f"{requester.display_name} is writing a purpose statement on Telos and would value "
        "your comments on it. You do not need an account: the link below shows only the "
        f"statement and their question. It works once, until "
        f"{request.expires_at.strftime('%Y-%m-%d')}.\n\n"
        f"{settings.base_url}/reply/{token}\n\n"
        "If you would rather not answer, ignore this message. Telos forgets your address "
        "when you answer, when the link expires, or when the request is withdrawn.\n"
    )
    return mail.Mail(to=request.reviewer_email,
                     subject=f"{requester.display_name} asks for your feedback", body=body,
                     forget_address=True)


@dataclass(frozen=True)
class Link:
    """What the link's page may show: the statement, the question, the asker's name."""

    request_id: int
    state: FeedbackStatus
    requester_name: str
    statement: str
    question: str
    expires_at: datetime


def state_of(request: FeedbackRequest, moment: datetime | None = None) -> FeedbackStatus:
    """Expired as soon as the time has passed, before the hourly job has cleared it."""
    expired = request.expires_at is not None and request.expires_at <= (moment or now())
    if request.status == FeedbackStatus.requested and expired:
        return FeedbackStatus.expired
    return FeedbackStatus(request.status)


def open_link(session: Session, *, token: str) -> Link:
    row = session.exec(
        select(FeedbackRequest, StatementVersion.text, User.display_name)
        .join(StatementVersion,
              col(StatementVersion.id) == FeedbackRequest.statement_version_id)
        .join(User, col(User.id) == FeedbackRequest.requester_id)
        .where(FeedbackRequest.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise NotFound("This feedback link is not valid. Check that the whole link from "
                       "the e-mail is in the address bar.")
    request, text, name = row
    assert request.id is not None and request.expires_at is not None
    return Link(request_id=request.id, state=state_of(request), requester_name=name,
                statement=text, question=request.question, expires_at=request.expires_at)


def answer(session: Session, *, link: Link, comment: str, name: str) -> bool:
    """True if this submission answered the request; False if it was no longer open."""
    moment = now()
    result = session.execute(
        update(FeedbackRequest)
        .where(col(FeedbackRequest.id) == link.request_id,
               col(FeedbackRequest.status) == FeedbackStatus.requested,
               col(FeedbackRequest.expires_at) > moment)
        .values(status=FeedbackStatus.given, comment=comment.strip(),
                reviewer_name=name.strip(), answered_at=moment, reviewer_email=None)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def own_outside_request(session: Session, *, request_id: int,
                        requester_id: int) -> FeedbackRequest:
    request = session.get(FeedbackRequest, request_id)
    if request is None or request.requester_id != requester_id or not request.outside:
        raise NotFound("You have sent no feedback link with this number.")
    return request


def withdraw(session: Session, *, request: FeedbackRequest) -> bool:
    """True if it was open and is now withdrawn; the link then says so and nothing else."""
    moment = now()
    result = session.execute(
        update(FeedbackRequest)
        .where(col(FeedbackRequest.id) == request.id,
               col(FeedbackRequest.status) == FeedbackStatus.requested,
               col(FeedbackRequest.expires_at) > moment)
        .values(status=FeedbackStatus.withdrawn, withdrawn_at=moment, reviewer_email=None)
    )
    session.refresh(request)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def forget_expired(session: Session, *, moment: datetime) -> int:
    """Open requests whose link has expired: marked expired, their address cleared."""
    result = session.execute(
        update(FeedbackRequest)
        .where(col(FeedbackRequest.status) == FeedbackStatus.requested,
               col(FeedbackRequest.reviewer_id).is_(None),
               col(FeedbackRequest.expires_at) <= moment)
        .values(status=FeedbackStatus.expired, reviewer_email=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
