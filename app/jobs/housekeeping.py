"""Old job records go: done ones after 30 days, failed ones after 90."""

from datetime import timedelta
from typing import Any

from huey import crontab
from sqlalchemy import delete
from sqlmodel import col

from app import jobs
from app.clock import now
from app.jobs.models import Job, JobStatus

KEEP = {JobStatus.done: timedelta(days=30), JobStatus.failed: timedelta(days=90)}


@jobs.periodic("jobs.housekeeping", crontab(minute="17", hour="3"), attempts=3)
def forget_old_jobs(ctx: jobs.JobContext) -> dict[str, Any]:
    removed = 0
    with ctx.transaction() as session:
        for status, age in KEEP.items():
            removed += session.execute(  # type: ignore[attr-defined]
                delete(Job).where(col(Job.status) == status,
                                  col(Job.finished_at) < now() - age)
            ).rowcount
    return {"removed": removed}
