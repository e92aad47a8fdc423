"""Matching tables: mentor profiles, members' match preferences, cohort weights, runs, matches."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
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


def _fk(table: str, *, nullable: bool = False, ondelete: str = "CASCADE",
        unique: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete),
                         nullable=nullable, index=not unique, unique=unique),
    )


def _when(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime)
    return Field(default_factory=now, sa_type=UTCDateTime)


def _tags() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MentorProfile(SQLModel, table=True):
    """What a mentor tells members and the matcher about themselves; the time zone is the
    user's own (`user.time_zone`)."""

    __tablename__ = "mentor_profile"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user", unique=True)
    bio: str = Field(default="", sa_column=Column(Text, nullable=False))
    experience: str = Field(default="", sa_column=Column(Text, nullable=False))
    languages: list[str] = _tags()
    themes: list[str] = _tags()
    offers: list[str] = _tags()
    # How many mentees at once, counting requests not yet answered.
    capacity: int = 2
    accepting: bool = True
    created_at: datetime = _when()
    updated_at: datetime = _when()


class MatchPreferences(SQLModel, table=True):
    """What a member asks of the matcher: themes, languages and what they want from a mentor."""

    __tablename__ = "match_preferences"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user", unique=True)
    themes: list[str] = _tags()
    languages: list[str] = _tags()
    wishes: list[str] = _tags()
    wants: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = _when()


class CohortWeights(SQLModel, table=True):
    """How much each part of a pair's score counts, per cohort."""

    __tablename__ = "cohort_weights"

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = _fk("cohort", unique=True)
    text: float = 0.55
    themes: float = 0.30
    time_zone: float = 0.10
    wishes: float = 0.05
    updated_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    updated_at: datetime = _when()


class RunStatus(StrEnum):
    # The job computes the draft; a run that failed can be tried again.
    running = "running"
    failed = "failed"
    draft = "draft"
    published = "published"


RUNNING_ONLY = text("status = 'running'")


class MatchRun(SQLModel, table=True):
    """One run of the matcher for a cohort: computed by a job, a draft a manager reviews,
    then publishes."""

    __tablename__ = "match_run"
    # One running run per cohort, however many managers click at once.
    __table_args__ = (Index("uq_match_run_one_running", "cohort_id", unique=True,
                            sqlite_where=RUNNING_ONLY, postgresql_where=RUNNING_ONLY),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = _fk("cohort")
    status: RunStatus = Field(sa_column=Column(String(20), nullable=False))
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    encoder: str = Field(max_length=40)
    started_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    started_at: datetime = _when()
    rerun_at: datetime | None = _when(nullable=True)
    published_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    published_at: datetime | None = _when(nullable=True)
    # The job computing it now (or last); a job of another number finds nothing to do.
    job_id: int | None = None
    computed_at: datetime | None = _when(nullable=True)
    # Why the last attempt failed, in words for the manager.
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class MatchExclusion(SQLModel, table=True):
    """A pair a manager ruled out of a run; kept across re-runs. One row each, so two
    managers excluding at once both count."""

    __tablename__ = "match_exclusion"
    __table_args__ = (UniqueConstraint("run_id", "member_id", "mentor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = _fk("match_run")
    member_id: int = _fk("user")
    mentor_id: int = _fk("user")
    excluded_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    created_at: datetime = _when()


class MatchSource(StrEnum):
    run = "run"
    manager = "manager"
    member = "member"


class MatchStatus(StrEnum):
    draft = "draft"
    proposed = "proposed"
    accepted = "accepted"
    declined = "declined"
    ended = "ended"
    withdrawn = "withdrawn"


OPEN_STATUSES = (MatchStatus.proposed, MatchStatus.accepted)
OPEN_ONLY = text("status IN ('proposed', 'accepted')")


class Match(SQLModel, table=True):
    """One member-mentor pair, from a draft suggestion to how it ended."""

    __tablename__ = "mentor_match"
    # One open match (asked or running) per member, however many clicks arrive at once.
    __table_args__ = (Index("ix_mentor_match_pair", "member_id", "mentor_id"),
                      Index("uq_mentor_match_one_open", "member_id", unique=True,
                            sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY))

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = _fk("match_run", nullable=True, ondelete="SET NULL")
    member_id: int = _fk("user")
    mentor_id: int = _fk("user")
    source: MatchSource = Field(sa_column=Column(String(20), nullable=False))
    status: MatchStatus = Field(sa_column=Column(String(20), nullable=False))
    score: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))
    parts: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The next best mentors when the draft was made: [{mentor_id, score, explanation}].
    alternatives: list[dict[str, Any]] = _tags()
    pinned: bool = False
    created_by_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    decline_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    member_fit: bool | None = None
    mentor_fit: bool | None = None
    end_reason: str = Field(default="", max_length=200)
    created_at: datetime = _when()
    proposed_at: datetime | None = _when(nullable=True)
    answered_at: datetime | None = _when(nullable=True)
    ended_at: datetime | None = _when(nullable=True)


class MemberSuggestions(SQLModel, table=True):
    """A member's suggested mentors and content, computed by a job when their purpose, the
    mentors or the content change; pages read it and drop what no longer fits."""

    __tablename__ = "member_suggestions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _fk("user", unique=True)
    # [{mentor_id, score, explanation}] and [{content_id, score, explanation}], best first.
    mentors: list[dict[str, Any]] = _tags()
    content: list[dict[str, Any]] = _tags()
    # A hash of everything the lists were computed from; the same inputs are not scored twice.
    fingerprint: str = Field(default="", max_length=64)
    computed_at: datetime = _when()



class MentorPost(SQLModel, table=True):
    """One message in the private thread of a member and their accepted mentor."""

    __tablename__ = "mentor_post"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = _fk("mentor_match")
    author_id: int | None = _fk("user", nullable=True, ondelete="SET NULL")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _when()


class MentorThreadReader(SQLModel, table=True):
    """One side of a thread: whether they muted its e-mail, and when they were last told."""

    __tablename__ = "mentor_thread_reader"
    __table_args__ = (UniqueConstraint("match_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = _fk("mentor_match")
    user_id: int = _fk("user")
    muted: bool = False
    notified_at: datetime | None = _when(nullable=True)
