from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


class ReminderKind(StrEnum):
    followup_invite = "followup-invite"
    followup_reminder = "followup-reminder"
    nudge = "nudge"
    wave_invite = "wave-invite"  # a wave given by a journey step opened on its day
    commitment_overdue = "commitment-overdue"  # occasion: the commitment and its date


class Reminder(SQLModel, table=True):
    """One reminder e-mail sent; the unique key makes a second run (or worker) send none.

    `occasion` tells apart the e-mails of one kind: the number of a follow-up reminder,
    or for a nudge the day of the last activity before the stall.
    """

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("enrolment_id", "kind", "wave", "occasion"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    enrolment_id: int = Field(sa_column=Column(
        Integer, ForeignKey("enrolment.id", ondelete="CASCADE"), nullable=False, index=True))
    kind: ReminderKind = Field(sa_column=Column(String(30), nullable=False))
    wave: str = Field(default="", max_length=20)
    occasion: str = Field(default="", max_length=40)
    sent_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
