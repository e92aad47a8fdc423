"""Follow-up invitations and reminders, on fixed moments."""

from datetime import timedelta

from sqlmodel import Session, col, select

from app.journeys.definitions import Wave
from app.mail import Mail
from app.reminders import service
from app.reminders.models import Reminder, ReminderKind
from app.settings import Settings
from app.surveys import waves
from tests.reminders.helpers import T0, WALK_FOLLOWUP_DAYS, completed_walk, mails, member

OPENS = timedelta(days=WALK_FOLLOWUP_DAYS)


def send(db: Session, settings: Settings, at: object) -> int:
    sent = service.send_followups(db, settings=settings, moment=at)  # type: ignore[arg-type]
    db.commit()
    return sent


def test_the_invitation_goes_out_the_day_the_followup_opens_and_only_once(
    db: Session, settings: Settings
) -> None:
    user = member(db)
    enrolment = completed_walk(db, user, at=T0 - OPENS)
    assert send(db, settings, T0 - timedelta(days=1)) == 0
    assert send(db, settings, T0) == 1
    assert send(db, settings, T0) == 0
    assert send(db, settings, T0 + timedelta(hours=1)) == 0

    [mail] = mails(db, settings)
    assert mail.to == user.email
    assert "follow-up questionnaire" in mail.subject
    assert "http://testserver/surveys/followup\n" in mail.body
    assert "http://testserver/reminders/off/" in mail.body
    [row] = db.exec(select(Reminder)).all()
    assert (row.enrolment_id, row.kind, row.wave, row.sent_at) == (
        enrolment.id, ReminderKind.followup_invite, "followup", T0)


def test_one_reminder_follows_the_further_days_and_no_more(
    db: Session, settings: Settings
) -> None:
    completed_walk(db, member(db), at=T0 - OPENS)
    assert send(db, settings, T0) == 1
    assert send(db, settings, T0 + timedelta(days=6)) == 0
    assert send(db, settings, T0 + timedelta(days=7)) == 1
    assert send(db, settings, T0 + timedelta(days=7, hours=1)) == 0
    assert send(db, settings, T0 + timedelta(days=14)) == 0
    assert send(db, settings, T0 + timedelta(days=21)) == 0

    invite, reminder = mails(db, settings)
    assert not invite.subject.startswith("Still open:")
    assert reminder.subject.startswith("Still open:")
    assert "http://testserver/surveys/followup\n" in reminder.body
    kinds = [row.kind for row in db.exec(select(Reminder).order_by(col(Reminder.sent_at)))]
    assert kinds == [ReminderKind.followup_invite, ReminderKind.followup_reminder]


def test_no_reminder_once_the_followup_is_sent(db: Session, settings: Settings) -> None:
    user = member(db)
    # In the past, so the questionnaire is open on the real clock as well.
    enrolment = completed_walk(db, user, at=T0 - OPENS)
    assert send(db, settings, T0) == 1
    response = waves.open_response(db, enrolment=enrolment, wave=Wave.followup, key="happiness")
    waves.submit(db, response=response, instrument=waves.instrument_for(db, response))
    db.commit()
    assert send(db, settings, T0 + timedelta(days=7)) == 0
    assert len(mails(db, settings)) == 1


def test_none_is_sent_once_the_followup_is_sent_before_the_invitation(
    db: Session, settings: Settings
) -> None:
    enrolment = completed_walk(db, member(db), at=T0 - OPENS)
    response = waves.open_response(db, enrolment=enrolment, wave=Wave.followup, key="happiness")
    waves.submit(db, response=response, instrument=waves.instrument_for(db, response))
    db.commit()
    assert send(db, settings, T0) == 0


def test_a_member_who_turned_reminders_off_gets_none(db: Session, settings: Settings) -> None:
    completed_walk(db, member(db, reminders=False), at=T0 - OPENS)
    assert send(db, settings, T0) == 0
    assert send(db, settings, T0 + timedelta(days=7)) == 0
    assert mails(db, settings) == []


def test_turning_reminders_off_after_the_invitation_stops_the_reminder(
    db: Session, settings: Settings
) -> None:
    user = member(db)
    completed_walk(db, user, at=T0 - OPENS)
    assert send(db, settings, T0) == 1
    service.set_reminders(db, user=user, on=False)
    assert send(db, settings, T0 + timedelta(days=7)) == 0


def test_nothing_is_sent_in_the_members_night(db: Session, settings: Settings) -> None:
    # Tokyo is UTC+9: 12:23 UTC is 21:23 there, 23:23 UTC is 08:23 the next morning.
    completed_walk(db, member(db, time_zone="Asia/Tokyo"), at=T0 - OPENS)
    assert send(db, settings, T0) == 0
    assert send(db, settings, T0 + timedelta(hours=9)) == 0   # 06:23 in Tokyo
    assert send(db, settings, T0 + timedelta(hours=11)) == 1  # 08:23 in Tokyo


def test_an_invitation_long_overdue_is_not_sent(db: Session, settings: Settings) -> None:
    completed_walk(db, member(db), at=T0 - OPENS - timedelta(days=31))
    assert send(db, settings, T0) == 0


def test_a_reminder_recorded_twice_is_sent_once(db: Session, settings: Settings) -> None:
    """Two workers at once: the second insert meets the unique key and queues nothing."""
    user = member(db)
    enrolment = completed_walk(db, user, at=T0 - OPENS)
    assert user.id is not None and enrolment.id is not None

    def attempt() -> bool:
        return service.record(db, Reminder(
            user_id=user.id or 0, enrolment_id=enrolment.id or 0,
            kind=ReminderKind.followup_invite, wave="followup", sent_at=T0,
        ), Mail(to=user.email, subject="Once", body="Only once."))

    assert attempt() is True
    assert attempt() is False
    db.commit()
    assert [mail.subject for mail in mails(db, settings)] == ["Once"]
