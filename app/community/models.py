from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


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


class Theme(SQLModel, table=True):
    """One entry of the shared, editable theme list that purposes, mentors and content use."""

    __tablename__ = "theme"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    label: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class ContentKind(StrEnum):
    article = "article"
    video = "video"
    exercise = "exercise"
    event = "event"


class ContentItem(SQLModel, table=True):
    """An entry of the content library: something to read, watch, do or attend."""

    __tablename__ = "content_item"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    # The title folded (case, spacing), so two items cannot share a title by accident.
    title_key: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    url: str = Field(default="", max_length=500)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Journey phase or stage ids it suits; empty means any point of the journey.
    stages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    language: str = Field(default="en", max_length=20)
    archived: bool = False
    # Checked in the UPDATE, so a second editor cannot silently overwrite the first.
    version: int = 1
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True),
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
