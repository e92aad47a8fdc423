"""What the reminder tests share: members on the walk journey, and the e-mail they got."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlmodel import Session

from app.accounts.models import Role, User
from app.journeys import service as journeys
from app.journeys.models import Enrolment, EnrolmentStatus
from app.settings import Settings
from tests.factories import create_user
from tests.jobs import delivered

# A fixed moment: 12:23 in UTC, the daytime of a member whose time zone is UTC.
T0 = datetime(2026, 6, 1, 12, 23, tzinfo=UTC)
WALK_FOLLOWUP_DAYS = 30  # tests/fixtures/walk.yaml


@dataclass(frozen=True)
class Sent:
    to: str
    subject: str
    body: str


def member(db: Session, *, time_zone: str = "UTC", reminders: bool = True) -> User:
    user = create_user(db, roles=[Role.member])
    user.time_zone, user.reminders = time_zone, reminders
    db.add(user)
    db.commit()
    return user


def completed_walk(db: Session, user: User, *, at: datetime) -> Enrolment:
    assert user.id is not None
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="walk")
    enrolment.status, enrolment.completed_at = EnrolmentStatus.completed, at
    enrolment.started_at = at - timedelta(days=40)
    db.add(enrolment)
    db.commit()
    return enrolment


def mails(db: Session, settings: Settings) -> list[Sent]:
    """Every e-mail in the outbox once the queued ones went out."""
    sent = []
    for path in delivered(db, settings):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body()
        assert body is not None
        sent.append(Sent(str(message["To"]), str(message["Subject"]), body.get_content()))
    return sent
