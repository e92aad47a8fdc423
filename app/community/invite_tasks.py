"""Cohort invitations' jobs: sending the e-mails, and forgetting unanswered addresses."""

from typing import Any

from huey import crontab

from app import jobs, mail
from app.clock import now
from app.community import invites
from app.community.invite_models import CohortInvite
from app.community.models import Cohort
from app.settings import Settings


def _describe(payload: dict[str, Any]) -> str:
    count = len(payload.get("invite_ids", []))
    return f"{count} cohort invitation{'' if count == 1 else 's'}"


@jobs.task(invites.SEND_TASK, attempts=8, retry_delay=30, backoff=3, describe=_describe)
def send_invites(ctx: jobs.JobContext, *, invite_ids: list[int]) -> dict[str, Any]:
    """Each invitation in its own transaction, so a retry sends only the ones left."""
    sent = 0
    for invite_id in invite_ids:
        with ctx.transaction() as session:
            found = invites.queued(session, invite_id=invite_id)
            if found is None:
                continue
            invite, cohort = found
            mail.send(ctx.settings, invitation_mail(ctx.settings, cohort, invite))
            invites.mark_sent(session, invite=invite)
            sent += 1
    return {"sent": sent}


def invitation_mail(settings: Settings, cohort: Cohort, invite: CohortInvite) -> mail.Mail:
    assert invite.email is not None
    body = (
        "Hello,\n\n"
        f"You are invited to join “{cohort.name}” on Telos, a group that walks a journey "
        "together to discover, refine and express a personal purpose.\n\n"
        f"Join here:\n\n{settings.base_url}/join/{cohort.invite_code}\n\n"
        "If you were not expecting this, you can ignore it; Telos forgets your address "
        f"after {settings.invitation_days} days if you do not join.\n"
    )
    return mail.Mail(to=invite.email, subject=f"You are invited to join {cohort.name}",
                     body=body)


@jobs.periodic("community.forget_invites", crontab(minute="17"), attempts=3)
def forget_invites(ctx: jobs.JobContext) -> dict[str, Any]:
    with ctx.transaction() as session:
        removed = invites.forget_expired(session, days=ctx.settings.invitation_days,
                                         moment=now())
    return {"removed": removed}
