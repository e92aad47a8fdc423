"""Research tables: studies, who may see them, which cohorts they follow, export files and
the outcome report's cache."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


class Study(SQLModel, table=True):
    """A research project over one or more cohorts, under one consent document."""

    __tablename__ = "study"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    consent_key: str = Field(max_length=64)
    # {"pre": [instrument keys], "post": [...], "followup": [...]}, in the order given.
    battery: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    free_text: bool = False
    # The key of every pseudonym in this study (hex of 32 random bytes). Never rendered,
    # never exported: whoever holds it can test a guessed member id against a pseudonym.
    secret: str = Field(max_length=64)
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True),
    )
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    # Counts the edits: an edit made from an older version is refused, not overwritten.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False,
                                                     server_default="1"))


class StudyCohort(SQLModel, table=True):
    __tablename__ = "study_cohort"

    study_id: int = Field(sa_column=Column(
        Integer, ForeignKey("study.id", ondelete="CASCADE"), primary_key=True))
    cohort_id: int = Field(sa_column=Column(
        Integer, ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True, index=True))
    # The study's arm this cohort is: "intervention", "comparison" (wait-list), or "" (none).
    arm: str = Field(default="", sa_column=Column(String(16), nullable=False,
                                                  server_default=""))


class StudyResearcher(SQLModel, table=True):
    """A researcher who may see the study; only these ever learn that it exists."""

    __tablename__ = "study_researcher"

    study_id: int = Field(sa_column=Column(
        Integer, ForeignKey("study.id", ondelete="CASCADE"), primary_key=True))
    user_id: int = Field(sa_column=Column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True))
    added_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True),
    )
    added_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class KeptEnrolment(SQLModel, table=True):
    """The cohort of an enrolment whose account was deleted while research consent held.

    Deleting the account deletes the enrolment, so this is what still ties the answers
    kept under `participant_code` to a cohort (and so to the studies that follow it).
    """

    __tablename__ = "kept_enrolment"

    id: int | None = Field(default=None, primary_key=True)
    participant_code: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    # The participant code of the account's first kept enrolment: what still ties the
    # enrolments of one deleted account together, so it counts once per study.
    account_code: str = Field(default="", sa_column=Column(String(32), nullable=False,
                                                           server_default="", index=True))
    cohort_id: int = Field(sa_column=Column(
        Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False, index=True))
    # The consent document the member had agreed to, so a study can still check its key.
    consent_key: str = Field(max_length=64)
    kept_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class ExportStatus(StrEnum):
    queued = "queued"
    building = "building"
    ready = "ready"
    failed = "failed"
    expired = "expired"


class ExportFile(SQLModel, table=True):
    """One export a researcher asked for, built by a job into a file only they may fetch.

    `path` is the file's name under `settings.var_dir / "exports"`; it is set once the file
    is whole (written under a temporary name, then renamed), and the file is deleted when
    the record expires.
    """

    __tablename__ = "export_file"

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(sa_column=Column(
        Integer, ForeignKey("study.id", ondelete="CASCADE"), nullable=False, index=True))
    requested_by_id: int = Field(sa_column=Column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True))
    format: str = Field(max_length=32)
    # What was chosen: {"waves": [...], "instruments": [...]}, empty lists meaning all.
    selection: dict[str, Any] = Field(default_factory=dict,
                                      sa_column=Column(JSON, nullable=False))
    status: ExportStatus = Field(default=ExportStatus.queued,
                                 sa_column=Column(String(16), nullable=False, index=True))
    file_name: str = Field(max_length=200)
    path: str = Field(default="", max_length=300)
    size_bytes: int | None = None
    rows: int | None = None
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sha256: str = Field(default="", max_length=64)
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class OutcomeCache(SQLModel, table=True):
    """A study's outcome report as last computed by a job, and whether it is current.

    `data_version` counts the changes to the study's data (a response sent, consent
    withdrawn, a rescore) and asks to recompute; `computed_version` is the count the cached
    report was computed at. `waiting` is set while a job is asked for and not yet started,
    so a burst of changes asks for one job.
    """

    __tablename__ = "outcome_cache"

    study_id: int = Field(sa_column=Column(
        Integer, ForeignKey("study.id", ondelete="CASCADE"), primary_key=True))
    data_version: int = 0
    computed_version: int | None = None
    waiting: bool = False
    computed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    participants: int = 0
    # The report and reliability tables as plain JSON (see app/research/outcome_cache.py).
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    chart_means: str = Field(default="", sa_column=Column(Text, nullable=False))
    chart_forest: str = Field(default="", sa_column=Column(Text, nullable=False))
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
