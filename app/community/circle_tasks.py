"""Circles' jobs: forming a cohort's circles, and the daily digest of new posts."""

import traceback
from typing import Any

from huey import crontab

from app import jobs, mail
from app.clock import now
from app.community import circle_threads, circles
from app.community.circle_models import CircleForming, FormingStatus
from app.jobs.registry import spec
from app.matching.circles import CirclesImpossible


def _forming_name(payload: dict[str, Any]) -> str:
    return f"circles of forming {payload.get('forming_id')}"


@jobs.task(circles.FORM_TASK, attempts=2, retry_delay=5.0, describe=_forming_name)
def form_circles(ctx: jobs.JobContext, *, forming_id: int) -> dict[str, Any]:
    """Groups the cohort; a forming done already, or now another job's, is left as is."""
    with ctx.transaction() as session:
        forming = session.get(CircleForming, forming_id)
        if (forming is None or forming.status != FormingStatus.running
                or forming.job_id != ctx.job_id):
            return {"skipped": "the forming is not waiting for this job"}
        inputs = circles.forming_inputs(session, forming)
    try:
        drafts = circles.compute(inputs, encoder=ctx.settings.encoder)
    except CirclesImpossible as impossible:
        with ctx.transaction() as session:
            circles.fail_forming(session, forming_id=forming_id, job_id=ctx.job_id,
                                 error=impossible.reason)
        return {"impossible": impossible.reason}
    except Exception as error:
        if ctx.attempt >= spec(circles.FORM_TASK).attempts:
            problem = "".join(traceback.format_exception_only(type(error), error)).strip()
            with ctx.transaction() as session:
                circles.fail_forming(session, forming_id=forming_id, job_id=ctx.job_id,
                                     error=f"The grouping stopped with an error: {problem}")
        raise
    with ctx.transaction() as session:
        saved = circles.save_drafts(session, forming_id=forming_id, job_id=ctx.job_id,
                                    drafts=drafts)
    if not saved:
        return {"skipped": "the forming was finished meanwhile"}
    return {"circles": len(drafts), "members": len(inputs.members)}


@jobs.periodic("circles.digest", crontab(hour="17", minute="41"), attempts=3)
def send_digests(ctx: jobs.JobContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        mails = circle_threads.send_digests(session, base_url=ctx.settings.base_url, moment=now())
        mail.queue(session, mails)
    return {"sent": len(mails)}
