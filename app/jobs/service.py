"""Asking for jobs, claiming and finishing them, and finding the ones a crash lost."""

import logging
import os
import socket
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, func, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.clock import now
from app.jobs.models import Job, JobStatus
from app.jobs.registry import spec

log = logging.getLogger(__name__)

# A queued job that should have run this long ago, and was not handed to the queue
# since, is handed over again (its web process died between commit and hand-over, or
# the queue lost it).
GRACE = timedelta(minutes=2)
PENDING = "telos.jobs.pending"

Sessions = Callable[[], AbstractContextManager[Session]]


class Sender(Protocol):
    """What hands a committed job to the queue (the Huey queue of app/jobs/queue.py)."""

    def send(self, job_id: int, name: str, delay: float) -> None: ...


_senders: "WeakKeyDictionary[Engine, Sender]" = WeakKeyDictionary()


def attach(engine: Engine, sender: Sender) -> None:
    """Jobs committed through `engine` are handed to `sender` right after the commit."""
    _senders[engine] = sender


def enqueue(
    session: Session, name: str, *, delay: timedelta | None = None,
    at: datetime | None = None, key: str | None = None, **payload: Any,
) -> Job | None:
    """Ask for the task `name` with `payload`, in the caller's transaction.

    Nothing reaches the queue before that transaction commits, and nothing at all if it
    rolls back. With a `key`, a job already asked for under that key makes this a no-op
    (and None is returned).
    """
    task = spec(name)
    when = at or now() + (delay or timedelta())
    job = Job(name=name, payload=payload, key=key, max_attempts=task.attempts,
              run_after=when, sent_at=now())
    if key is not None:
        if session.exec(select(Job.id).where(Job.key == key)).first() is not None:
            return None
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            return None  # another process asked for it at the same moment
    else:
        session.add(job)
    session.flush()
    session.info.setdefault(PENDING, []).append((job.id, name, when))
    return job


def _root(engine: Engine) -> Engine:
    """The engine `attach` was given: a session bound to `engine.execution_options(…)`
    (a read-only or deferred unit of work) holds a proxy of it."""
    while (inner := getattr(engine, "_proxied", None)) is not None:
        engine = inner
    return engine


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    pending = session.info.pop(PENDING, [])
    if not pending:
        return
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    sender = _senders.get(_root(engine))
    if sender is None:
        return  # no queue here (a CLI, a test): a worker's sweep hands them over
    for job_id, name, when in pending:
        try:
            sender.send(job_id, name, max((when - now()).total_seconds(), 0.0))
        except Exception:
            # The job is committed; the sweep hands it over once the queue is back.
            log.exception("could not hand job %s to the queue; the sweep will", job_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Claimed:
    id: int
    name: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int


def claim(session: Session, job_id: int, *, worker: str) -> Claimed | None:
    """Take a due queued job for this worker, or None if it is not there to take
    (done, running elsewhere, not due yet, rolled back)."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    started = now()
    taken = session.execute(
        update(Job)
        .where(col(Job.id) == job_id, col(Job.status) == JobStatus.queued,
               col(Job.run_after) <= started, col(Job.attempts) < col(Job.max_attempts))
        .values(status=JobStatus.running, attempts=Job.attempts + 1, started_at=started,
                lease_until=started + spec(job.name).lease, worker=worker,
                finished_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        return None
    session.refresh(job)
    return Claimed(id=job_id, name=job.name, payload=dict(job.payload),
                   attempt=job.attempts, max_attempts=job.max_attempts)


def _mine(job_id: int, worker: str) -> Any:
    return (col(Job.id) == job_id) & (col(Job.status) == JobStatus.running) & \
        (col(Job.worker) == worker)


def finish(session: Session, job_id: int, *, worker: str, result: dict[str, Any],
           payload: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"status": JobStatus.done, "finished_at": now(),
                              "lease_until": None, "result": result, "error": ""}
    if payload is not None:
        values["payload"] = payload
    session.execute(update(Job).where(_mine(job_id, worker)).values(**values)
                    .execution_options(synchronize_session=False))


def fail(session: Session, job_id: int, *, worker: str, error: str, final: bool = False) -> bool:
    """Record a failed attempt; True when the job will be tried again (never when `final`:
    another attempt cannot mend it)."""
    job = session.get(Job, job_id)
    if job is None or job.status != JobStatus.running or job.worker != worker:
        return False
    again = job.attempts < job.max_attempts and not final
    job.error = error[-4000:]
    job.lease_until = None
    if again:
        job.status = JobStatus.queued
        job.run_after = now() + timedelta(seconds=spec(job.name).delay_after(job.attempts))
        job.sent_at = now()
    else:
        job.status, job.finished_at = JobStatus.failed, now()
    session.add(job)
    session.flush()
    return again


def retry(session: Session, job: Job) -> None:
    """An admin's retry of a failed job: as many attempts again as it first had."""
    job.status, job.attempts, job.run_after = JobStatus.queued, 0, now()
    job.finished_at = None
    job.max_attempts = spec(job.name).attempts
    job.sent_at = now()
    session.add(job)
    session.flush()
    session.info.setdefault(PENDING, []).append((job.id, job.name, job.run_after))


def _alive(worker: str) -> bool:
    """Whether a worker of this machine still runs; workers elsewhere count as alive
    until their lease passes."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(session: Session) -> list[tuple[int, str, float]]:
    """Jobs to hand (again) to the queue: running ones whose worker died or whose lease
    passed, and due queued ones that were not handed over. Returns (id, name, delay)."""
    moment = now()
    resend: list[tuple[int, str, float]] = []
    running = session.exec(select(Job).where(Job.status == JobStatus.running)).all()
    for job in running:
        lost = (job.lease_until is not None and job.lease_until < moment) \
            or not _alive(job.worker)
        if not lost:
            continue
        job.error = f"The worker {job.worker} stopped during attempt {job.attempts}."
        job.lease_until = None
        if job.attempts >= job.max_attempts:
            job.status, job.finished_at = JobStatus.failed, moment
        else:
            job.status, job.run_after, job.sent_at = JobStatus.queued, moment, moment
            resend.append((job.id or 0, job.name, 0.0))
        session.add(job)
    stale = session.exec(
        select(Job).where(Job.status == JobStatus.queued, col(Job.run_after) < moment - GRACE,
                          (col(Job.sent_at).is_(None)) | (col(Job.sent_at) < moment - GRACE))
        .limit(1000)
    ).all()
    for job in stale:
        job.sent_at = moment
        session.add(job)
        resend.append((job.id or 0, job.name, 0.0))
    session.flush()
    return resend


def counts(session: Session) -> dict[JobStatus, int]:
    rows = session.exec(select(Job.status, func.count()).group_by(Job.status)).all()
    found = {JobStatus(status): number for status, number in rows}
    return {status: found.get(status, 0) for status in JobStatus}


def listing(session: Session, *, status: JobStatus | None, limit: int = 100) -> list[Job]:
    query = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    return list(session.exec(query).all())


def due_ids(session: Session, names: Iterable[str] | None = None) -> list[int]:
    query = select(Job.id).where(Job.status == JobStatus.queued, col(Job.run_after) <= now(),
                                 col(Job.attempts) < col(Job.max_attempts))
    if names is not None:
        query = query.where(col(Job.name).in_(list(names)))
    return [job_id for job_id in session.exec(query.order_by(col(Job.id))).all() if job_id]
