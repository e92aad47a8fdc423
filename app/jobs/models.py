from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(SQLModel, table=True):
    """One piece of background work: what to run, with what, and how it went.

    The row is written in the transaction that asks for the work, so a request that
    rolls back leaves none; the queue (Huey) only carries "run job N". The row is the
    truth: a worker claims it with a conditional UPDATE before running it, so a message
    delivered twice runs the work once.
    """

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Periodic and coalesced work carries a key, so a second request for the same work
    # (another worker's scheduler, a double click) adds nothing.
    key: str | None = Field(default=None, max_length=200, unique=True)
    status: JobStatus = Field(default=JobStatus.queued,
                              sa_column=Column(String(16), nullable=False, index=True))
    attempts: int = 0
    max_attempts: int = 5
    run_after: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime, index=True)
    # When the job was last handed to the queue; a queued job not handed over for a
    # while (its web process died right after the commit) is handed over again.
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A running job whose lease has passed, or whose worker process is gone, is
    # given to another worker.
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    worker: str = Field(default="", max_length=120)
    error: str = ""
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
