"""Hourly: follow-up invitations and reminders, closing check-ins that opened, commitments
past their date, then nudges. Each member is caught in their own daytime by one of the
runs; a second run in the same hour sends nothing."""

from typing import Any

from huey import crontab

from app import jobs
from app.clock import now
from app.reminders import service


@jobs.periodic("reminders.followups", crontab(minute="23"), attempts=3)
def send_followups(ctx: jobs.JobContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        sent = service.send_followups(session, settings=ctx.settings, moment=now())
    return {"sent": sent}


@jobs.periodic("reminders.nudges", crontab(minute="38"), attempts=3)
def send_nudges(ctx: jobs.JobContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        sent = service.send_nudges(session, settings=ctx.settings, moment=now())
    return {"sent": sent}


@jobs.periodic("reminders.waves", crontab(minute="8"), attempts=3)
def send_wave_invitations(ctx: jobs.JobContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        sent = service.send_wave_invitations(session, settings=ctx.settings, moment=now())
    return {"sent": sent}


@jobs.periodic("reminders.commitments", crontab(minute="53"), attempts=3)
def send_overdue_commitments(ctx: jobs.JobContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        sent = service.send_overdue_commitments(session, settings=ctx.settings, moment=now())
    return {"sent": sent}
