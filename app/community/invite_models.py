"""Invitations to a cohort by e-mail: one per address and cohort, sent by a job."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


class InviteStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    joined = "joined"


class CohortInvite(SQLModel, table=True):
    """The address is kept only while it is needed: it is blanked once the person joins
    (their account holds it) and the row is deleted when an unanswered invitation expires."""

    __tablename__ = "cohort_invite"
    __table_args__ = (UniqueConstraint("cohort_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(sa_column=Column(
        Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False, index=True))
    email: str | None = Field(default=None, max_length=320)
    status: InviteStatus = Field(sa_column=Column(String(20), nullable=False))
    invited_by_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True))
    joined_user_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
