"""Accounts' periodic clean-up: what can no longer be used is not kept."""

from datetime import timedelta
from typing import Any

from huey import crontab
from sqlalchemy import delete
from sqlmodel import col

from app import jobs
from app.accounts.models import Invitation, PasswordResetToken, RateLimitEvent, UserSession
from app.accounts.ratelimit import LIMITS
from app.clock import now


@jobs.periodic("accounts.housekeeping", crontab(minute="7"), attempts=3)
def forget_expired(ctx: jobs.JobContext) -> dict[str, Any]:
    """Every hour: ended sign-in sessions, used or expired reset links, invitations
    never accepted, and rate-limit events older than the longest window."""
    moment = now()
    idle = timedelta(minutes=ctx.settings.session_idle_minutes)
    longest = max(limit.window for limit in LIMITS)
    statements = {
        "sessions": delete(UserSession).where(
            (col(UserSession.expires_at) < moment) | (col(UserSession.revoked_at).is_not(None))
            | (col(UserSession.last_seen_at) < moment - idle)),
        "reset_tokens": delete(PasswordResetToken).where(
            (col(PasswordResetToken.expires_at) < moment)
            | (col(PasswordResetToken.used_at).is_not(None))),
        # Accepted ones stay: they record who gave whom a role.
        "invitations": delete(Invitation).where(
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) < moment - timedelta(days=30)),
        "rate_limit_events": delete(RateLimitEvent).where(
            col(RateLimitEvent.created_at) < moment - longest),
    }
    removed: dict[str, Any] = {}
    with ctx.transaction() as session:
        for name, statement in statements.items():
            removed[name] = session.execute(statement).rowcount  # type: ignore[attr-defined]
    return removed
