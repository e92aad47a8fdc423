"""Running the jobs a test's requests asked for, in the test's own transaction.

The task code is the real one; only the worker is left out, since a worker in another
thread or process cannot see a transaction that is rolled back after the test. The
worker itself is tested in tests/jobs/ on committed data.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlmodel import Session

from app.jobs import runner, service
from app.settings import Settings


def run_due_jobs(db: Session, settings: Settings) -> int:
    """Run every due queued job once; returns how many ran."""

    @contextmanager
    def sessions() -> Iterator[Session]:
        with db.begin_nested():
            yield db

    ran = 0
    for job_id in service.due_ids(db):
        try:
            ran += runner.run_job(job_id, sessions=sessions, settings=settings,
                                  worker="test").ran
        except runner.JobFailed:
            ran += 1
    db.expire_all()
    return ran


def delivered(db: Session, settings: Settings) -> list[Path]:
    """The outbox after the queued e-mail has gone out, oldest first."""
    run_due_jobs(db, settings)
    folder = Path(settings.outbox_dir)
    return sorted(folder.glob("*.eml")) if folder.exists() else []
