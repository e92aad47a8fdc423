"""Inviting people to a cohort by e-mail: a pasted list of addresses, each invited once,
the messages sent by the "community.cohort_invites" job.

An address is kept only while it is needed: blanked when its person joins the cohort
(their account holds it then), and the row deleted once the invitation expires unanswered
(`Settings.invitation_days` after it was sent; see `forget_expired`)."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app import jobs
from app.accounts.models import User
from app.clock import now
from app.community.invite_models import CohortInvite, InviteStatus
from app.community.models import Cohort
from app.errors import TelosError
from app.journeys.models import Enrolment

SEND_TASK = "community.cohort_invites"
MAX_PER_PASTE = 200
MAX_PER_DAY = 500  # per cohort: enough for a real intake, too few to spam with
SEPARATORS = re.compile(r"[,;\s]+")


class TooManyInvites(TelosError):
    status_code = 429
    title = "Too many invitations"


@dataclass(frozen=True)
class Pasted:
    addresses: list[str]
    invalid: list[tuple[str, str]]  # (as typed, why it is refused)


def parse(text: str) -> Pasted:
    """Addresses separated by commas, semicolons, spaces or new lines; each kept once."""
    addresses: list[str] = []
    invalid: list[tuple[str, str]] = []
    for typed in (part.strip().strip("<>") for part in SEPARATORS.split(text)):
        if not typed:
            continue
        try:
            address = validate_email(typed, check_deliverability=False).normalized.lower()
        except EmailNotValidError as error:
            invalid.append((typed, str(error)))
            continue
        if address not in addresses:
            addresses.append(address)
    return Pasted(addresses, invalid)


@dataclass(frozen=True)
class Invited:
    new: list[str]
    already: list[str]


def invite(session: Session, *, cohort: Cohort, addresses: list[str],
           by_id: int | None) -> Invited:
    """Records one invitation per new address and asks for the job that sends them."""
    _refuse_beyond_limits(session, cohort=cohort, count=len(addresses))
    known = _known_addresses(session, cohort_id=cohort.id or 0)
    new = [address for address in addresses if address not in known]
    invites = [CohortInvite(cohort_id=cohort.id or 0, email=address, status=InviteStatus.queued,
                            invited_by_id=by_id) for address in new]
    session.add_all(invites)
    session.flush()
    if invites:
        jobs.enqueue(session, SEND_TASK, invite_ids=[invite.id for invite in invites])
    return Invited(new, [address for address in addresses if address in known])


def _known_addresses(session: Session, *, cohort_id: int) -> set[str]:
    """Addresses invited already, and those of the cohort's members."""
    invited = session.exec(select(CohortInvite.email).where(
        CohortInvite.cohort_id == cohort_id, col(CohortInvite.email).is_not(None)))
    members = session.exec(select(User.email).join(
        Enrolment, col(Enrolment.user_id) == User.id).where(Enrolment.cohort_id == cohort_id))
    return {address for address in invited if address} | {email.lower() for email in members}


def _refuse_beyond_limits(session: Session, *, cohort: Cohort, count: int) -> None:
    if count > MAX_PER_PASTE:
        raise TooManyInvites(f"That is {count} addresses; paste at most {MAX_PER_PASTE} at "
                             "a time.")
    since = now() - timedelta(days=1)
    sent_today = session.exec(select(func.count()).select_from(CohortInvite).where(
        CohortInvite.cohort_id == cohort.id, col(CohortInvite.created_at) >= since)).one()
    if sent_today + count > MAX_PER_DAY:
        left = max(MAX_PER_DAY - sent_today, 0)
        raise TooManyInvites(f"A cohort can invite {MAX_PER_DAY} addresses a day; {left} "
                             "more can be invited today. Try the rest tomorrow.")


@dataclass(frozen=True)
class InviteRow:
    who: str
    status: InviteStatus
    invited_at: datetime
    sent_at: datetime | None
    joined_at: datetime | None


def invitations(session: Session, *, cohort_id: int) -> list[InviteRow]:
    rows = session.exec(
        select(CohortInvite, User.display_name)
        .join(User, col(User.id) == CohortInvite.joined_user_id, isouter=True)
        .where(CohortInvite.cohort_id == cohort_id)
        .order_by(col(CohortInvite.created_at).desc(), col(CohortInvite.id).desc()))
    return [InviteRow(name or invite.email or "someone who has since left", invite.status,
                      invite.created_at, invite.sent_at, invite.joined_at)
            for invite, name in rows]


def mark_joined(session: Session, *, cohort_id: int, user: User) -> None:
    invite = session.exec(select(CohortInvite).where(
        CohortInvite.cohort_id == cohort_id, CohortInvite.email == user.email.lower())).first()
    if invite is None:
        return
    invite.status, invite.joined_at = InviteStatus.joined, now()
    invite.email, invite.joined_user_id = None, user.id
    session.add(invite)
    session.flush()


def queued(session: Session, *, invite_id: int) -> tuple[CohortInvite, Cohort] | None:
    """The invitation and its cohort, while it still waits to be sent."""
    invite = session.get(CohortInvite, invite_id)
    if invite is None or invite.status != InviteStatus.queued or not invite.email:
        return None
    cohort = session.get(Cohort, invite.cohort_id)
    return (invite, cohort) if cohort is not None else None


def mark_sent(session: Session, *, invite: CohortInvite) -> None:
    invite.status, invite.sent_at = InviteStatus.sent, now()
    session.add(invite)
    session.flush()


def forget_expired(session: Session, *, days: int, moment: datetime) -> int:
    """Unanswered invitations older than their link's life go, with their addresses."""
    result = session.execute(delete(CohortInvite).where(
        col(CohortInvite.status) != InviteStatus.joined,
        col(CohortInvite.created_at) < moment - timedelta(days=days)))
    return int(result.rowcount)  # type: ignore[attr-defined]
