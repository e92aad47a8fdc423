from datetime import timedelta

from sqlmodel import Session, col, func, select

from app.accounts import ratelimit
from app.accounts.models import RateLimitEvent
from app.clock import now


def _count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(RateLimitEvent).where(
        col(RateLimitEvent.key) == "203.0.113.9")).one()


def test_counting_an_attempt_forgets_the_ones_that_no_longer_count(db: Session) -> None:
    limit = ratelimit.LOGIN_PER_IP
    db.add(RateLimitEvent(bucket=limit.bucket, key="203.0.113.9",
                          created_at=now() - limit.window - timedelta(minutes=1)))
    db.flush()
    ratelimit.hit(db, limit, "203.0.113.9")
    assert _count(db) == 1
    ratelimit.check(db, limit, "203.0.113.9")  # one attempt in the window: allowed
