"""Who gets which reminder e-mail, when; each one recorded in the transaction that queues it.

Every function takes the `moment` it acts at, so the hourly task passes the clock and the
tests pass fixed times.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import mail
from app.accounts.models import User
from app.errors import TelosError
from app.journeys import service as journeys
from app.journeys.definitions import Journey, SurveyStep, Wave
from app.journeys.models import Commitment, Enrolment, EnrolmentStatus, JourneyVersion
from app.reminders import messages
from app.reminders.models import Reminder, ReminderKind
from app.security import dump_signed, load_signed
from app.settings import Settings
from app.surveys import waves
from app.surveys.models import ResponseStatus

OPT_OUT = "reminders-off"
# Sent only in the member's daytime; the hourly task finds them there.
DAYTIME_HOURS = range(8, 20)
# A first e-mail that is this late (a worker stopped for weeks, an old journey when
# reminders began) is not sent at all: it would be about something long past.
TOO_LATE = timedelta(days=30)


def _local(user: User, moment: datetime) -> datetime:
    try:
        zone = ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone)


def is_daytime(user: User, moment: datetime) -> bool:
    return _local(user, moment).hour in DAYTIME_HOURS


# Turning reminders off -------------------------------------------------------------


def opt_out_token(settings: Settings, *, user_id: int) -> str:
    """A link token that never expires: all it can do is turn reminders off."""
    return dump_signed(settings.signing_key, OPT_OUT, {"user": user_id, "purpose": OPT_OUT})


def user_of_token(session: Session, settings: Settings, *, token: str) -> User | None:
    payload = load_signed(settings.signing_key, OPT_OUT, token)
    if not isinstance(payload, dict) or payload.get("purpose") != OPT_OUT:
        return None
    user_id = payload.get("user")
    return session.get(User, user_id) if isinstance(user_id, int) else None


def set_reminders(session: Session, *, user: User, on: bool) -> None:
    user.reminders = on
    session.add(user)
    session.flush()


def record(session: Session, reminder: Reminder, message: mail.Mail) -> bool:
    """Records the reminder and queues its e-mail; False if it was sent already (by an
    earlier run, or another worker at the same moment)."""
    try:
        with session.begin_nested():
            session.add(reminder)
    except IntegrityError:
        return False
    mail.queue(session, [message])
    return True


# Follow-up invitations and reminders ---------------------------------------------------


def send_followups(session: Session, *, settings: Settings, moment: datetime) -> int:
    sent = 0
    for journey, enrolment, user in _followup_candidates(session, moment):
        due = _followup_due(session, journey, enrolment, moment)
        if due is None or not is_daytime(user, moment):
            continue
        kind, occasion = due
        assert user.id is not None and enrolment.id is not None
        message = messages.followup(settings, user=user, journey=journey,
                                    reminder=kind == ReminderKind.followup_reminder,
                                    token=opt_out_token(settings, user_id=user.id))
        reminder = Reminder(user_id=user.id, enrolment_id=enrolment.id, kind=kind,
                            wave=Wave.followup.value, occasion=occasion, sent_at=moment)
        sent += record(session, reminder, message)
    return sent


def _followup_candidates(
    session: Session, moment: datetime
) -> Iterator[tuple[Journey, Enrolment, User]]:
    """Completed enrolments whose follow-up may be due, one journey version at a time
    (each version has its own days)."""
    for version in session.exec(select(JourneyVersion)).all():
        journey = journeys.definition_of(version)
        plan = journey.waves
        if not plan.followup:
            continue
        opens = timedelta(days=plan.followup_after_days)
        last = TOO_LATE + timedelta(days=plan.followup_reminder_after_days
                                    * plan.followup_reminders)
        rows = session.exec(
            select(Enrolment, User).join(User, col(User.id) == Enrolment.user_id).where(
                Enrolment.journey_version_id == version.id,
                Enrolment.status == EnrolmentStatus.completed,
                col(Enrolment.completed_at) <= moment - opens,
                col(Enrolment.completed_at) > moment - opens - last,
                col(User.reminders).is_(True), col(User.is_active).is_(True),
            ).order_by(col(Enrolment.id))
        ).all()
        for enrolment, user in rows:
            yield journey, enrolment, user


def _followup_due(
    session: Session, journey: Journey, enrolment: Enrolment, moment: datetime
) -> tuple[ReminderKind, str] | None:
    """Which follow-up e-mail is due now, if any: the invitation, or reminder number n."""
    assert enrolment.id is not None and enrolment.completed_at is not None
    if _followup_sent(session, journey, enrolment):
        return None
    plan = journey.waves
    earlier = session.exec(select(Reminder).where(
        Reminder.enrolment_id == enrolment.id, Reminder.wave == Wave.followup.value,
    ).order_by(col(Reminder.sent_at))).all()
    if not earlier:
        opens = enrolment.completed_at + timedelta(days=plan.followup_after_days)
        return (ReminderKind.followup_invite, "") if moment < opens + TOO_LATE else None
    reminders = sum(1 for row in earlier if row.kind == ReminderKind.followup_reminder)
    if reminders >= plan.followup_reminders:
        return None
    if moment < earlier[-1].sent_at + timedelta(days=plan.followup_reminder_after_days):
        return None
    return ReminderKind.followup_reminder, str(reminders + 1)


def _followup_sent(session: Session, journey: Journey, enrolment: Enrolment) -> bool:
    assert enrolment.id is not None
    given = waves.responses(session, enrolment_id=enrolment.id, wave=Wave.followup)
    return all(key in given and given[key].status == ResponseStatus.submitted
               for key in waves.wave_keys(session, enrolment, Wave.followup))


# The closing check-in, on the day it opens ------------------------------------------


def send_wave_invitations(session: Session, *, settings: Settings, moment: datetime) -> int:
    """One e-mail when the post wave opens, to members who reached its step before that
    day and have been waiting since (whoever comes later finds it open)."""
    sent = 0
    for journey, enrolment, user in _waiting_for_post(session, moment):
        if not is_daytime(user, moment):
            continue
        step = journeys.enrolment_progress(session, enrolment).next_step
        if step is None or not isinstance(step.step, SurveyStep) or step.step.wave != Wave.post \
                or waves.wave_submitted(session, enrolment=enrolment, wave=Wave.post):
            continue
        assert user.id is not None and enrolment.id is not None
        message = messages.wave_open(settings, user=user, journey=journey, step=step.step,
                                     token=opt_out_token(settings, user_id=user.id))
        sent += record(session, Reminder(
            user_id=user.id, enrolment_id=enrolment.id, kind=ReminderKind.wave_invite,
            wave=Wave.post.value, sent_at=moment), message)
    return sent


def _waiting_for_post(
    session: Session, moment: datetime
) -> Iterator[tuple[Journey, Enrolment, User]]:
    for version in session.exec(select(JourneyVersion)).all():
        journey = journeys.definition_of(version)
        if not journey.waves.post or journey.waves.post_after_days == 0:
            continue
        opens = timedelta(days=journey.waves.post_after_days)
        rows = session.exec(
            select(Enrolment, User).join(User, col(User.id) == Enrolment.user_id).where(
                Enrolment.journey_version_id == version.id,
                Enrolment.status == EnrolmentStatus.active,
                col(Enrolment.started_at) <= moment - opens,
                col(Enrolment.started_at) > moment - opens - TOO_LATE,
                col(User.reminders).is_(True), col(User.is_active).is_(True),
            ).order_by(col(Enrolment.id))
        ).all()
        for enrolment, user in rows:
            if enrolment.last_activity_at <= enrolment.started_at + opens:
                yield journey, enrolment, user


# Commitments past their date ----------------------------------------------------------


def send_overdue_commitments(session: Session, *, settings: Settings, moment: datetime) -> int:
    """One e-mail per commitment not done by its date, on the first daytime run after that
    day ends where the member lives; a new date makes a new occasion."""
    rows = session.exec(
        select(Commitment, Enrolment, User)
        .join(Enrolment, col(Enrolment.id) == Commitment.enrolment_id)
        .join(User, col(User.id) == Enrolment.user_id).where(
            Enrolment.status != EnrolmentStatus.left, col(Commitment.done_at).is_(None),
            col(Commitment.due_on) < (moment + timedelta(days=1)).date(),
            col(Commitment.due_on) >= (moment - TOO_LATE).date(),
            col(User.reminders).is_(True), col(User.is_active).is_(True),
        ).order_by(col(Commitment.id))
    ).all()
    sent = 0
    for commitment, enrolment, user in rows:
        if commitment.due_on >= _local(user, moment).date() or not is_daytime(user, moment):
            continue
        assert user.id is not None and enrolment.id is not None
        message = messages.commitment_overdue(settings, user=user, commitment=commitment,
                                              token=opt_out_token(settings, user_id=user.id))
        sent += record(session, Reminder(
            user_id=user.id, enrolment_id=enrolment.id, kind=ReminderKind.commitment_overdue,
            occasion=f"{commitment.id}:{commitment.due_on.isoformat()}", sent_at=moment),
            message)
    return sent


# Nudges ------------------------------------------------------------------------------


def send_nudges(session: Session, *, settings: Settings, moment: datetime) -> int:
    """One e-mail per stall: a member this many days without activity in an active
    journey; the stall is known by the day of the last activity."""
    quiet = timedelta(days=settings.nudge_after_days)
    rows = session.exec(
        select(Enrolment, User).join(User, col(User.id) == Enrolment.user_id).where(
            Enrolment.status == EnrolmentStatus.active,
            col(Enrolment.last_activity_at) <= moment - quiet,
            col(Enrolment.last_activity_at) > moment - quiet - TOO_LATE,
            col(User.reminders).is_(True), col(User.is_active).is_(True),
        ).order_by(col(Enrolment.id))
    ).all()
    sent = 0
    for enrolment, user in rows:
        if is_daytime(user, moment):
            sent += _nudge(session, settings, enrolment, user, moment)
    return sent


def _nudge(session: Session, settings: Settings, enrolment: Enrolment, user: User,
           moment: datetime) -> bool:
    assert enrolment.id is not None and user.id is not None
    stall = stall_of(enrolment)
    if session.exec(select(Reminder.id).where(
        Reminder.enrolment_id == enrolment.id, Reminder.kind == ReminderKind.nudge,
        Reminder.occasion == stall,
    )).first() is not None:
        return False
    progress = journeys.enrolment_progress(session, enrolment)
    step = progress.next_step
    if step is None or _waiting_for_a_wave(session, enrolment, progress, moment):
        return False
    message = messages.nudge(settings, user=user, journey=journeys.journey_of(session, enrolment),
                             step=step.step, token=opt_out_token(settings, user_id=user.id))
    return record(session, Reminder(user_id=user.id, enrolment_id=enrolment.id,
                                     kind=ReminderKind.nudge, occasion=stall, sent_at=moment),
                   message)


class NudgeRefused(TelosError):
    status_code = 409
    title = "No nudge sent"


def stall_of(enrolment: Enrolment) -> str:
    """What tells one stall from the next: the day of the last activity before it."""
    return enrolment.last_activity_at.date().isoformat()


def nudge_now(session: Session, *, settings: Settings, enrolment: Enrolment,
              moment: datetime) -> Reminder:
    """A nudge a manager sends by hand: the same e-mail and record as the hourly one, so
    a stall still gets one nudge in all, and never to a member who turned reminders off."""
    user = session.get(User, enrolment.user_id)
    assert user is not None
    if not user.reminders:
        raise NudgeRefused(f"{user.display_name} has turned reminder e-mails off; "
                           "Telos sends them none.")
    if enrolment.status != EnrolmentStatus.active or not user.is_active:
        raise NudgeRefused(f"{user.display_name} is no longer on this journey.")
    if enrolment.last_activity_at > moment - timedelta(days=settings.nudge_after_days):
        raise NudgeRefused(f"{user.display_name} has been active in the last "
                           f"{settings.nudge_after_days} days; no nudge is needed.")
    sent = _nudge(session, settings, enrolment, user, moment)
    reminder = session.exec(select(Reminder).where(
        Reminder.enrolment_id == enrolment.id, Reminder.kind == ReminderKind.nudge,
        Reminder.occasion == stall_of(enrolment))).first()
    if reminder is None:
        raise NudgeRefused(f"{user.display_name} has no step left to do on this journey.")
    if not sent:
        raise NudgeRefused(f"{user.display_name} was already nudged on "
                           f"{reminder.sent_at.date().isoformat()}, after their last activity.")
    return reminder


def nudges_sent(
    session: Session, *, enrolment_ids: Sequence[int]
) -> dict[tuple[int, str], datetime]:
    """When each of these enrolments was nudged, by (enrolment id, stall)."""
    sent: dict[tuple[int, str], datetime] = {}
    for start in range(0, len(enrolment_ids), 500):
        rows = session.exec(select(Reminder.enrolment_id, Reminder.occasion, Reminder.sent_at)
                            .where(col(Reminder.enrolment_id).in_(enrolment_ids[start:start + 500]),
                                   Reminder.kind == ReminderKind.nudge))
        for enrolment_id, occasion, sent_at in rows:
            sent[(enrolment_id, occasion)] = sent_at
    return sent


def _waiting_for_a_wave(session: Session, enrolment: Enrolment, progress: journeys.Progress,
                       moment: datetime) -> bool:
    """Nobody is nudged towards a questionnaire that has not opened yet, nor again just
    after the e-mail that said it is open."""
    upcoming = progress.next_step
    if upcoming is None or not isinstance(upcoming.step, SurveyStep):
        return False
    if upcoming.step.wave == Wave.post and waves.post_opens(session, enrolment=enrolment) > moment:
        return True
    return session.exec(select(Reminder.id).where(
        Reminder.enrolment_id == enrolment.id, Reminder.kind == ReminderKind.wave_invite,
        col(Reminder.sent_at) >= enrolment.last_activity_at,
    )).first() is not None


def sent_to(session: Session, *, user_id: int) -> list[Reminder]:
    return list(session.exec(select(Reminder).where(Reminder.user_id == user_id)
                             .order_by(col(Reminder.sent_at))))
