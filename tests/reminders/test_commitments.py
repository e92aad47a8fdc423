"""An e-mail for a commitment not done by its date, on fixed moments."""

from datetime import date, timedelta

from sqlmodel import Session

from app.accounts.models import User
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.models import Commitment, EnrolmentStatus
from app.reminders import service
from app.settings import Settings
from tests.reminders.helpers import T0, mails, member


def planned(db: Session, user: User, *, due: date, text: str = "Call my sister") -> Commitment:
    assert user.id is not None
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="walk")
    assert enrolment.id is not None
    statements.replace_plan(db, enrolment_id=enrolment.id, rows=[(text, due)])
    db.commit()
    [commitment] = statements.commitments(db, enrolment_id=enrolment.id)
    return commitment


def send(db: Session, settings: Settings, at: object) -> int:
    sent = service.send_overdue_commitments(db, settings=settings, moment=at)  # type: ignore[arg-type]
    db.commit()
    return sent


def test_a_commitment_past_its_date_gets_one_reminder(db: Session, settings: Settings) -> None:
    user = member(db)
    commitment = planned(db, user, due=T0.date())
    assert send(db, settings, T0) == 0  # its day is not over yet
    assert send(db, settings, T0 + timedelta(days=1)) == 1
    assert send(db, settings, T0 + timedelta(days=1, hours=1)) == 0
    assert send(db, settings, T0 + timedelta(days=4)) == 0

    [mail] = mails(db, settings)
    assert mail.to == user.email and "“Call my sister”" in mail.subject
    assert f"by {commitment.due_on.isoformat()}" in mail.body
    assert "http://testserver/purpose\n" in mail.body
    assert "http://testserver/reminders/off/" in mail.body

    commitment.due_on = T0.date() + timedelta(days=7)  # a new date: a new occasion
    db.add(commitment)
    db.commit()
    assert send(db, settings, T0 + timedelta(days=8)) == 1


def test_no_reminder_when_done_opted_out_left_asleep_or_long_past(
    db: Session, settings: Settings
) -> None:
    done = planned(db, member(db), due=T0.date() - timedelta(days=1))
    statements.set_done(db, commitment=done, done=True)
    planned(db, member(db, reminders=False), due=T0.date() - timedelta(days=1))
    left = member(db)
    planned(db, left, due=T0.date() - timedelta(days=1))
    enrolment = journeys.current_enrolment(db, user_id=left.id or 0)
    assert enrolment is not None
    enrolment.status = EnrolmentStatus.left
    db.add(enrolment)
    planned(db, member(db, time_zone="Asia/Tokyo"), due=T0.date() - timedelta(days=1))
    planned(db, member(db), due=T0.date() - timedelta(days=31))
    db.commit()
    assert send(db, settings, T0 + timedelta(hours=2)) == 0
    assert mails(db, settings) == []
