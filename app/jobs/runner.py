"""Running one job: claim it, run its task, record how it went."""

import logging
import traceback
from dataclasses import dataclass

from app.jobs import service
from app.jobs.registry import CannotSucceed, JobContext, spec
from app.jobs.service import Sessions
from app.settings import Settings

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """An attempt failed and the job will be tried again (the queue's retry)."""

@dataclass(frozen=True)
class Outcome:
    ran: bool
    ok: bool = False
    again: bool = False


def run_job(job_id: int, *, sessions: Sessions, settings: Settings, worker: str) -> Outcome:
    """Run job `job_id` if it is due and nobody has it. A failure that will be retried
    raises JobFailed, so the queue schedules the retry with its backoff."""
    with sessions() as session:
        claimed = service.claim(session, job_id, worker=worker)
    if claimed is None:
        return Outcome(ran=False)
    task = spec(claimed.name)
    context = JobContext(settings=settings, sessions=sessions, job_id=job_id,
                         attempt=claimed.attempt)
    try:
        result = task.func(context, **claimed.payload) or {}
    except Exception as error:
        log.warning("job %s (%s) attempt %s failed: %s", job_id, claimed.name,
                    claimed.attempt, error)
        message = "".join(traceback.format_exception_only(type(error), error)).strip()
        with sessions() as session:
            again = service.fail(session, job_id, worker=worker, error=message,
                                 final=isinstance(error, CannotSucceed))
        if again:
            raise JobFailed(message) from error
        return Outcome(ran=True, ok=False)
    with sessions() as session:
        service.finish(session, job_id, worker=worker, result=result,
                       payload=context.payload_after)
    return Outcome(ran=True, ok=True)
