from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.accounts import ratelimit
from app.accounts.models import RateLimitEvent
from app.clock import now
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user


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



def browser_at(app: FastAPI, address: str) -> Browser:
    return Browser(TestClient(app, follow_redirects=False, client=(address, 50000)))


def sign_in(browser: Browser, email: str, password: str) -> httpx.Response:
    return browser.submit("/login", {"email": email, "password": password})


def test_an_attacker_is_stopped_but_the_owner_still_signs_in_from_elsewhere(
    app: FastAPI, db: Session
) -> None:
    owner = create_user(db)
    attacker = browser_at(app, "203.0.113.9")
    for _ in range(8):
        assert sign_in(attacker, owner.email, "wrong password").status_code == 400
    stopped = sign_in(attacker, owner.email, "another guess")
    assert stopped.status_code == 429 and "Please try again in" in stopped.text
    signed_in = sign_in(browser_at(app, "198.51.100.7"), owner.email, PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/home"


def test_wrong_passwords_from_many_addresses_stop_the_account_at_the_hourly_limit(
    app: FastAPI, db: Session
) -> None:
    owner = create_user(db)
    limit = ratelimit.LOGIN_FAILURES_PER_ACCOUNT
    for _ in range(limit.max_events - 1):  # a botnet's failures, each from its own address
        ratelimit.hit(db, limit, owner.email)
    db.commit()
    newcomer = browser_at(app, "192.0.2.50")
    assert sign_in(newcomer, owner.email, "one more guess").status_code == 400
    assert sign_in(newcomer, owner.email, PASSWORD).status_code == 429
    assert sign_in(browser_at(app, "192.0.2.51"), owner.email, PASSWORD).status_code == 429
