"""Journeys' periodic clean-up: an address asked for feedback goes when its link expires."""

from typing import Any

from huey import crontab

from app import jobs
from app.clock import now
from app.journeys import outside


@jobs.periodic("journeys.feedback_links", crontab(minute="47"), attempts=3)
def forget_expired_links(ctx: jobs.JobContext) -> dict[str, Any]:
    """Every hour: open feedback links past their date are marked expired and their
    address cleared."""
    with ctx.transaction() as session:
        expired = outside.forget_expired(session, moment=now())
    return {"expired": expired}
