"""The e-mail on the day the closing check-in opens (`post_after_days`), on fixed moments."""

from datetime import timedelta

from sqlmodel import Session

from app.accounts.models import User
from app.journeys import service as journeys
from app.journeys.models import Enrolment
from app.reminders import service
from app.settings import Settings
from tests.reminders.helpers import T0, mails, member

OPENS = timedelta(days=28)  # journeys/purpose.yaml: waves.post_after_days


def at_the_closing_step(db: Session, user: User, *, last_active: object) -> Enrolment:
    """On the purpose journey since T0 - 28 days, every step but the closing one done."""
    assert user.id is not None
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="purpose")
    for step in journeys.journey_of(db, enrolment).steps()[:-1]:
        journeys.mark_done(db, enrolment=enrolment, step_id=step.id)
    enrolment.started_at = T0 - OPENS
    enrolment.last_activity_at = last_active  # type: ignore[assignment]
    db.add(enrolment)
    db.commit()
    return enrolment


def invite(db: Session, settings: Settings, at: object) -> int:
    sent = service.send_wave_invitations(db, settings=settings, moment=at)  # type: ignore[arg-type]
    db.commit()
    return sent


def nudge(db: Session, settings: Settings, at: object) -> int:
    sent = service.send_nudges(db, settings=settings, moment=at)  # type: ignore[arg-type]
    db.commit()
    return sent


def test_a_member_waiting_at_the_closing_check_in_is_invited_once_when_it_opens(
    db: Session, settings: Settings
) -> None:
    user = member(db)
    at_the_closing_step(db, user, last_active=T0 - timedelta(days=20))
    assert invite(db, settings, T0 - timedelta(hours=1)) == 0
    assert invite(db, settings, T0) == 1
    assert invite(db, settings, T0 + timedelta(hours=1)) == 0
    assert invite(db, settings, T0 + timedelta(days=3)) == 0

    [mail] = mails(db, settings)
    assert mail.to == user.email
    assert mail.subject == "Open now: “Closing check-in”"
    assert "http://testserver/journey/steps/closing_survey\n" in mail.body
    assert "http://testserver/reminders/off/" in mail.body


def test_no_invitation_for_who_came_after_it_opened_opted_out_or_is_asleep(
    db: Session, settings: Settings
) -> None:
    at_the_closing_step(db, member(db), last_active=T0 + timedelta(hours=1))
    at_the_closing_step(db, member(db, reminders=False), last_active=T0 - timedelta(days=20))
    at_the_closing_step(db, member(db, time_zone="Asia/Tokyo"),
                        last_active=T0 - timedelta(days=20))
    assert invite(db, settings, T0 + timedelta(hours=2)) == 0
    assert mails(db, settings) == []


def test_no_nudge_towards_a_check_in_not_open_yet_nor_right_after_its_invitation(
    db: Session, settings: Settings
) -> None:
    user = member(db)
    at_the_closing_step(db, user, last_active=T0 - timedelta(days=20))
    assert nudge(db, settings, T0 - timedelta(days=5)) == 0
    assert invite(db, settings, T0) == 1
    assert nudge(db, settings, T0 + timedelta(minutes=15)) == 0
    assert [mail.subject for mail in mails(db, settings)] == ["Open now: “Closing check-in”"]
