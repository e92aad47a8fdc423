"""Background work: jobs recorded in the database, delivered and run by Huey workers.

Each domain defines its tasks beside its service with `@task`, and asks for one with
`enqueue(session, name, ...)` inside the transaction that wants it; the job reaches
the queue only after that transaction commits (see docs/decisions.md, "Jobs").
"""

from app.jobs.registry import CannotSucceed, JobContext, periodic, task
from app.jobs.service import enqueue

__all__ = ["CannotSucceed", "JobContext", "enqueue", "periodic", "task"]
