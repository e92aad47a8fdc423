"""`telos serve` believes X-Forwarded-For only from the proxies the settings name, so a
client on the same host cannot choose the address the rate limits count."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session, col, select

from app.accounts.models import RateLimitEvent
from app.accounts.ratelimit import LOGIN_PER_IP
from app.cli import proxy_options
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.live import free_port


@contextmanager
def served(app: FastAPI, settings: Settings) -> Iterator[str]:
    """`app` behind uvicorn on loopback, configured as `telos serve` configures it."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            **proxy_options(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def login_counted_under(app: FastAPI, settings: Settings, db: Session) -> list[str]:
    """Sign in once with a forged X-Forwarded-For; the addresses the login limit counted."""
    with served(app, settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        token = csrf_token_in(client.get("/login").text)
        response = client.post("/login", headers={"X-Forwarded-For": "203.0.113.9"},
                               data={"email": "nobody@example.org", "password": "wrong",
                                     "csrf_token": token})
        assert response.status_code == 400
    db.expire_all()
    return list(db.exec(select(RateLimitEvent.key)
                        .where(col(RateLimitEvent.bucket) == LOGIN_PER_IP.bucket)).all())


def test_by_default_a_forwarded_address_is_not_believed(
    app: FastAPI, settings: Settings, db: Session
) -> None:
    assert settings.forwarded_allow_ips == ""
    assert login_counted_under(app, settings, db) == ["127.0.0.1"]


def test_a_named_proxy_is_believed(app: FastAPI, settings: Settings, db: Session) -> None:
    settings.forwarded_allow_ips = "127.0.0.1"
    assert login_counted_under(app, settings, db) == ["203.0.113.9"]
