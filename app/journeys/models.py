import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


def _fk(table: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True
        ),
    )


def _when(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime)
    return Field(default_factory=now, sa_type=UTCDateTime)


class JourneyVersion(SQLModel, table=True):
    """One loaded content hash of a journey file; enrolments are pinned to it."""

    __tablename__ = "journey_version"
    __table_args__ = (UniqueConstraint("journey_key", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    journey_key: str = Field(max_length=64, index=True)
    content_hash: str = Field(max_length=64)
    title: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    loaded_at: datetime = _when()


class EnrolmentStatus(StrEnum):
    active = "active"
    completed = "completed"
    left = "left"


class Enrolment(SQLModel, table=True):
    """One member on one journey version."""

    __tablename__ = "enrolment"
    __table_args__ = (
        # One active journey per member, held by the database itself.
        Index("uq_enrolment_one_active", "user_id", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user")
    journey_version_id: int = _fk("journey_version", ondelete="RESTRICT")
    cohort_id: int | None = _fk("cohort", nullable=True, ondelete="SET NULL")
    status: EnrolmentStatus = Field(sa_column=Column(String(20), nullable=False))
    current_step_id: str = Field(default="", max_length=64)
    # A random code for this enrolment's survey answers, kept if the account is deleted.
    participant_code: str = Field(default_factory=lambda: secrets.token_hex(8), max_length=32)
    started_at: datetime = _when()
    completed_at: datetime | None = _when(nullable=True)
    last_activity_at: datetime = _when()


class StepStatus(StrEnum):
    in_progress = "in_progress"
    done = "done"


class StepAnswer(SQLModel, table=True):
    """What a member saved for one step; `version` guards against silent overwrites."""

    __tablename__ = "step_answer"
    __table_args__ = (UniqueConstraint("enrolment_id", "step_id"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = _fk("enrolment")
    step_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: StepStatus = Field(sa_column=Column(String(20), nullable=False))
    version: int = 1
    # The page (one browser tab) that saved last, so its own autosaves are not conflicts.
    editor: str = Field(default="", max_length=64)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Visibility(StrEnum):
    private = "private"
    mentor = "mentor"
    community = "community"


class StatementVersion(SQLModel, table=True):
    """Each saved purpose statement text; none is ever overwritten."""

    __tablename__ = "statement_version"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = _fk("enrolment")
    user_id: int = _fk("user")
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    parts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    visibility: Visibility = Field(
        default=Visibility.private, sa_column=Column(String(20), nullable=False)
    )
    created_at: datetime = _when()


class FeedbackStatus(StrEnum):
    requested = "requested"
    given = "given"
    declined = "declined"
    # Only requests sent by e-mail to someone outside Telos end these two ways.
    withdrawn = "withdrawn"
    expired = "expired"


class FeedbackRequest(SQLModel, table=True):
    """A member asks one person to comment on one statement version; only it is shared.

    The person has a Telos account (`reviewer_id`), or is someone outside Telos asked by
    e-mail: then only the hash of the link's token is stored, and the address is kept
    only while the request is open (see app/journeys/outside.py).
    """

    __tablename__ = "feedback_request"

    id: int | None = Field(default=None, primary_key=True)
    statement_version_id: int = _fk("statement_version")
    requester_id: int = _fk("user")
    reviewer_id: int | None = _fk("user", nullable=True)
    reviewer_email: str | None = Field(default=None, max_length=254)
    # What someone outside Telos signed their answer with (optional).
    reviewer_name: str = Field(default="", max_length=80)
    token_hash: str | None = Field(
        default=None, sa_column=Column(String(64), unique=True, nullable=True))
    expires_at: datetime | None = _when(nullable=True)
    question: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: FeedbackStatus = Field(sa_column=Column(String(20), nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()
    answered_at: datetime | None = _when(nullable=True)
    withdrawn_at: datetime | None = _when(nullable=True)
    # When the member who asked first saw the answer; until then their home page says so.
    answer_seen_at: datetime | None = _when(nullable=True)

    @property
    def outside(self) -> bool:
        return self.reviewer_id is None


class Commitment(SQLModel, table=True):
    """One line of a member's action plan."""

    __tablename__ = "commitment"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = _fk("enrolment")
    position: int
    text: str = Field(max_length=300)
    due_on: date
    done_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()
