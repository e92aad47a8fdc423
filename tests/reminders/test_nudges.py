"""Nudges for members whose journey stalled, on fixed moments."""

from datetime import timedelta

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.journeys import service as journeys
from app.journeys.models import Enrolment
from app.reminders import service
from app.reminders.models import Reminder, ReminderKind
from app.settings import Settings
from tests.reminders.helpers import T0, completed_walk, mails, member

QUIET = timedelta(days=10)  # the default of TELOS_NUDGE_AFTER_DAYS


def walking(db: Session, user: User, *, last_active: object) -> Enrolment:
    """On the walk journey, the first two steps done, then nothing since `last_active`."""
    assert user.id is not None
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="walk")
    for step_id in ("baseline", "welcome"):
        journeys.mark_done(db, enrolment=enrolment, step_id=step_id)
    enrolment.last_activity_at = last_active  # type: ignore[assignment]
    db.add(enrolment)
    db.commit()
    return enrolment


def send(db: Session, settings: Settings, at: object) -> int:
    sent = service.send_nudges(db, settings=settings, moment=at)  # type: ignore[arg-type]
    db.commit()
    return sent


def test_a_stalled_member_is_nudged_once_naming_the_step(
    db: Session, settings: Settings
) -> None:
    user = member(db)
    walking(db, user, last_active=T0 - QUIET)
    assert send(db, settings, T0 - timedelta(hours=1)) == 0
    assert send(db, settings, T0) == 1
    assert send(db, settings, T0 + timedelta(hours=1)) == 0
    assert send(db, settings, T0 + timedelta(days=5)) == 0

    [mail] = mails(db, settings)
    assert mail.to == user.email
    assert "“Moments”" in mail.subject and "You stopped at “Moments”" in mail.body
    assert "http://testserver/journey/steps/moments\n" in mail.body
    assert "http://testserver/reminders/off/" in mail.body


def test_a_new_stall_after_new_activity_gets_a_new_nudge(
    db: Session, settings: Settings
) -> None:
    enrolment = walking(db, member(db), last_active=T0 - QUIET)
    assert send(db, settings, T0) == 1
    enrolment.last_activity_at = T0 + timedelta(days=2)
    db.add(enrolment)
    db.commit()
    assert send(db, settings, T0 + timedelta(days=11)) == 0
    assert send(db, settings, T0 + timedelta(days=12)) == 1
    occasions = db.exec(select(Reminder.occasion).where(Reminder.kind == ReminderKind.nudge)
                        .order_by(col(Reminder.sent_at))).all()
    assert occasions == [(T0 - QUIET).date().isoformat(), (T0 + timedelta(days=2)).date()
                         .isoformat()]


def test_the_nudge_waits_for_the_configured_days(db: Session, settings: Settings) -> None:
    walking(db, member(db), last_active=T0 - timedelta(days=4))
    assert send(db, settings.model_copy(update={"nudge_after_days": 5}), T0) == 0
    assert send(db, settings.model_copy(update={"nudge_after_days": 4}), T0) == 1


def test_no_nudge_for_a_member_who_turned_reminders_off(
    db: Session, settings: Settings
) -> None:
    walking(db, member(db, reminders=False), last_active=T0 - QUIET)
    assert send(db, settings, T0) == 0


def test_no_nudge_in_the_members_night(db: Session, settings: Settings) -> None:
    walking(db, member(db, time_zone="Asia/Tokyo"), last_active=T0 - QUIET)
    assert send(db, settings, T0) == 0                          # 21:23 in Tokyo
    assert send(db, settings, T0 + timedelta(hours=11)) == 1    # 08:23 in Tokyo


def test_no_nudge_for_a_completed_journey(db: Session, settings: Settings) -> None:
    enrolment = completed_walk(db, member(db), at=T0 - QUIET - timedelta(days=1))
    enrolment.last_activity_at = T0 - QUIET - timedelta(days=1)
    db.add(enrolment)
    db.commit()
    assert send(db, settings, T0) == 0
