"""Peer circles: a cohort's forming, its circles, who is in each, their thread and reports."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel

MIN_SIZE = 4
MAX_SIZE = 6
POST_LIMIT = 5_000


def _fk(table: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete),
                         nullable=nullable, index=True),
    )


def _when(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime)
    return Field(default_factory=now, sa_type=UTCDateTime)


class FormingStatus(StrEnum):
    running = "running"
    ready = "ready"
    failed = "failed"
    published = "published"


class CircleForming(SQLModel, table=True):
    """A cohort's grouping into circles: asked for, computed by a job, reviewed, published."""

    __tablename__ = "circle_forming"

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(sa_column=Column(
        Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False, unique=True))
    status: FormingStatus = Field(sa_column=Column(String(20), nullable=False))
    min_size: int = MIN_SIZE
    max_size: int = MAX_SIZE
    # The job computing it now; a job of another number finds nothing to do.
    job_id: int | None = None
    started_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    started_at: datetime = _when()
    computed_at: datetime | None = _when(nullable=True)
    published_at: datetime | None = _when(nullable=True)
    # Why forming failed (CirclesImpossible's reason), in words for the manager.
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class CircleStatus(StrEnum):
    draft = "draft"
    published = "published"


class Circle(SQLModel, table=True):
    __tablename__ = "circle"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = _fk("cohort")
    number: int
    status: CircleStatus = Field(sa_column=Column(String(20), nullable=False))
    language: str = Field(default="", max_length=40)
    shared_themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))
    meeting_link: str = Field(default="", max_length=500)
    # A locked circle keeps its members when the manager forms the circles again.
    locked: bool = False
    version: int = 1
    created_at: datetime = _when()


class CircleMembership(SQLModel, table=True):
    __tablename__ = "circle_membership"
    __table_args__ = (UniqueConstraint("circle_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = _fk("circle")
    user_id: int = _fk("user")
    joined_at: datetime = _when()
    left_at: datetime | None = _when(nullable=True)
    # Set when a manager removed them, not they themselves.
    removed_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    muted: bool = False
    # Posts after this moment go into the next digest.
    digest_sent_at: datetime | None = _when(nullable=True)


class CirclePost(SQLModel, table=True):
    __tablename__ = "circle_post"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = _fk("circle")
    author_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    parent_id: int | None = _fk("circle_post", nullable=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()
    hidden_at: datetime | None = _when(nullable=True)
    hidden_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")


class CirclePostReport(SQLModel, table=True):
    __tablename__ = "circle_post_report"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = _fk("circle_post")
    reporter_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    reason: str = Field(default="", max_length=500)
    created_at: datetime = _when()
    resolved_at: datetime | None = _when(nullable=True)
    resolved_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")


STATEMENT_SHARE = "statement"
STEP_SHARE_PREFIX = "step:"


class CircleShare(SQLModel, table=True):
    """Something a member chose to show their circle: a reflection step's answer
    ("step:<step id>") or their purpose statement ("statement"). The circle reads the
    current text, never a copy, so un-sharing or leaving takes it away at once."""

    __tablename__ = "circle_share"
    __table_args__ = (UniqueConstraint("circle_id", "user_id", "what"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = _fk("circle")
    user_id: int = _fk("user")
    enrolment_id: int = _fk("enrolment")
    what: str = Field(max_length=80)
    shared_at: datetime = _when()
