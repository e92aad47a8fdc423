from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from app.clock import UTCDateTime, now


class Cohort(SQLModel, table=True):
    """A group that walks one journey together, joined by an invitation link."""

    __tablename__ = "cohort"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    journey_key: str = Field(max_length=64)
    starts_on: date
    ends_on: date | None = None
    invite_code: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True),
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
