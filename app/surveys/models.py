from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


class InstrumentVersion(SQLModel, table=True):
    """One loaded content hash of an instrument file; responses are pinned to it."""

    __tablename__ = "instrument_version"
    __table_args__ = (UniqueConstraint("instrument_key", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    instrument_key: str = Field(max_length=64, index=True)
    version: str = Field(max_length=200)
    content_hash: str = Field(max_length=64)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    loaded_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class ResponseStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class SurveyResponse(SQLModel, table=True):
    """One member's answers to one instrument in one wave; immutable once submitted."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("enrolment_id", "wave", "instrument_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # Both become NULL when the member deletes their account but had agreed to research:
    # the answers stay, pseudonymous, under `participant_code`.
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="SET NULL"), index=True),
    )
    enrolment_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("enrolment.id", ondelete="SET NULL"), index=True),
    )
    participant_code: str = Field(default="", max_length=32, index=True)
    days_since_enrolment: int | None = None
    wave: str = Field(max_length=20)
    instrument_key: str = Field(max_length=64)
    instrument_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("instrument_version.id", ondelete="RESTRICT"),
                         nullable=False, index=True)
    )
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: ResponseStatus = Field(sa_column=Column(String(20), nullable=False))
    started_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyScore(SQLModel, table=True):
    """A score derived from a submitted response; recomputable from the raw answers."""

    __tablename__ = "survey_score"
    __table_args__ = (UniqueConstraint("response_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(
        sa_column=Column(Integer, ForeignKey("survey_response.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    name: str = Field(max_length=64)
    value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    band: str = Field(default="", max_length=200)
    computed_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
