"""Attempt counting in the database, so the limits hold across app processes."""

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.accounts.models import RateLimitEvent
from app.clock import now


@dataclass(frozen=True)
class Limit:
    bucket: str
    max_events: int
    window: timedelta


LOGIN_PER_IP = Limit("login-ip", 30, timedelta(minutes=15))
# Wrong passwords stop a source for one account soon; the account as a whole only at the
# 100 an hour of ASVS 2.2.1, so one attacker cannot lock the owner out (docs/decisions.md).
LOGIN_FAILURES_PER_ACCOUNT_AND_IP = Limit("login-account-ip", 8, timedelta(minutes=15))
LOGIN_FAILURES_PER_ACCOUNT = Limit("login-account", 100, timedelta(hours=1))
SIGNUP_PER_IP = Limit("signup-ip", 10, timedelta(hours=1))
SIGNUP_PER_ACCOUNT = Limit("signup-account", 5, timedelta(hours=1))
RESET_PER_IP = Limit("reset-ip", 10, timedelta(hours=1))
RESET_PER_ACCOUNT = Limit("reset-account", 3, timedelta(hours=1))
# E-mailed feedback links to people outside Telos: per member, and per address (the key
# is a keyed hash of the address, so no address outlives its request here).
FEEDBACK_INVITES_PER_MEMBER = Limit("feedback-member", 10, timedelta(days=1))
FEEDBACK_INVITES_PER_ADDRESS = Limit("feedback-address", 3, timedelta(days=1))
LIMITS = (LOGIN_PER_IP, LOGIN_FAILURES_PER_ACCOUNT_AND_IP, LOGIN_FAILURES_PER_ACCOUNT,
          SIGNUP_PER_IP, SIGNUP_PER_ACCOUNT,
          RESET_PER_IP, RESET_PER_ACCOUNT, FEEDBACK_INVITES_PER_MEMBER,
          FEEDBACK_INVITES_PER_ADDRESS)


class RateLimited(Exception):
    def __init__(self, wait: timedelta) -> None:
        self.minutes = max(1, math.ceil(wait.total_seconds() / 60))
        unit = "minute" if self.minutes == 1 else "minutes"
        super().__init__(f"Too many attempts. Please try again in {self.minutes} {unit}.")


def check(session: Session, limit: Limit, key: str) -> None:
    """Raise RateLimited if `key` has used up `limit`."""
    since = now() - limit.window
    in_window = (
        col(RateLimitEvent.bucket) == limit.bucket,
        col(RateLimitEvent.key) == key,
        col(RateLimitEvent.created_at) > since,
    )
    count, oldest = session.exec(
        select(func.count(), func.min(RateLimitEvent.created_at)).where(*in_window)
    ).one()
    if count >= limit.max_events and oldest is not None:
        raise RateLimited(oldest + limit.window - now())


def hit(session: Session, limit: Limit, key: str) -> None:
    """Counts an attempt, and forgets this key's attempts that no longer count."""
    session.execute(
        delete(RateLimitEvent).where(
            col(RateLimitEvent.bucket) == limit.bucket, col(RateLimitEvent.key) == key,
            col(RateLimitEvent.created_at) <= now() - limit.window,
        )
    )
    session.add(RateLimitEvent(bucket=limit.bucket, key=key))
    session.flush()


def clear(session: Session, limit: Limit, key: str) -> None:
    session.execute(
        delete(RateLimitEvent).where(
            col(RateLimitEvent.bucket) == limit.bucket, col(RateLimitEvent.key) == key
        )
    )
