"""Matching's jobs: a manager's match run, members' stored suggestions, and the e-mail
about new posts in a member's thread with their mentor.

A run reads its inputs in one transaction, scores with none open, and writes in a
last one that checks the run is still wanted, so a second delivery changes nothing.
Suggestions are scored inside one reading transaction (the inputs are many small
reads) and stored in a second; a fingerprint makes a repeat cheap.
"""

import traceback
from typing import Any

from app import jobs, mail
from app.clock import now
from app.jobs.registry import spec
from app.matching import runs, suggestions, threads
from app.matching.models import MatchRun, RunStatus

RUN_TASK = "matching.run"


def _run_name(payload: dict[str, Any]) -> str:
    return f"match run {payload.get('run_id')}"


@jobs.task(RUN_TASK, attempts=3, retry_delay=5.0, backoff=3.0, describe=_run_name)
def match_run(ctx: jobs.JobContext, *, run_id: int) -> dict[str, Any]:
    """Computes the run's draft; a run already done, or now another job's, is left as is."""
    try:
        with ctx.transaction() as session:
            run = session.get(MatchRun, run_id)
            if run is None or run.status != RunStatus.running or run.job_id != ctx.job_id:
                return {"skipped": "the run is not waiting for this job"}
            inputs = runs.run_inputs(session, run)
        pairs = runs.compute(inputs)
        with ctx.transaction() as session:
            saved = runs.save_draft(session, run_id=run_id, job_id=ctx.job_id, pairs=pairs)
    except Exception as error:
        if ctx.attempt >= spec(RUN_TASK).attempts:
            problem = "".join(traceback.format_exception_only(type(error), error))
            with ctx.transaction() as session:
                runs.fail_run(session, run_id=run_id, job_id=ctx.job_id,
                              error=runs.plain_error(problem))
        raise
    if not saved:
        return {"skipped": "the run was finished meanwhile"}
    return {"pairs": len(pairs), "members": len(inputs.members)}


def _suggestions_name(payload: dict[str, Any]) -> str:
    if payload.get("everyone"):
        return "suggestions for everyone"
    return f"suggestions for {len(payload.get('user_ids', []))} member(s)"


@jobs.task(suggestions.TASK, attempts=4, retry_delay=10.0, describe=_suggestions_name)
def member_suggestions(
    ctx: jobs.JobContext, *, user_ids: list[int] | None = None, everyone: bool = False
) -> dict[str, Any]:
    """Stores the members' lists; for everyone, asks for one job per batch of members who
    have lists stored (the others get theirs when they first open a page)."""
    if everyone:
        with ctx.transaction() as session:
            batches = suggestions.batches(suggestions.everyone_stored(session))
            for batch in batches:
                jobs.enqueue(session, suggestions.TASK, user_ids=batch)
        return {"batches": len(batches)}
    with ctx.transaction() as session:
        computed = suggestions.compute(session, user_ids=list(user_ids or []),
                                       encoder_name=ctx.settings.encoder)
    with ctx.transaction() as session:
        for lists in computed:
            suggestions.store(session, lists)
    return {"stored": len(computed), "unchanged": len(user_ids or []) - len(computed)}


def _thread_mail_name(payload: dict[str, Any]) -> str:
    return f"conversation e-mail for match {payload.get('match_id')}"


@jobs.task(threads.NOTIFY_TASK, attempts=3, retry_delay=30.0, describe=_thread_mail_name)
def thread_mail(ctx: jobs.JobContext, *, match_id: int, recipient_id: int) -> dict[str, Any]:
    """Tells one side of a mentor thread about the other's new posts; a repeat finds them
    told already and sends nothing."""
    with ctx.transaction() as session:
        message = threads.notification(session, match_id=match_id, recipient_id=recipient_id,
                                       base_url=ctx.settings.base_url, moment=now())
        mail.queue(session, [message] if message else [])
    return {"sent": 1 if message else 0}
