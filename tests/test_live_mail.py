"""The real thing: `telos serve --with-worker` on a port of its own, no TELOS_BASE_URL.
A reset request is answered at once, the worker sends the mail, and its link works."""

import os
import re
import signal
import time
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest

from tests.browsing import Browser
from tests.databases import fresh_database_url
from tests.live import LiveServer

pytestmark = pytest.mark.live

PASSWORD = "a long enough live test password"


def wait_for_mail(outbox: Path, seconds: float = 30.0) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if files:
            return files[-1].read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"no e-mail reached {outbox} within {seconds:.0f} s")


def test_the_worker_sends_the_reset_mail_with_a_link_to_this_server(tmp_path: Path) -> None:
    with LiveServer(fresh_database_url("sqlite", tmp_path, "telos_live_mail"), tmp_path,
                    base_url=False) as server:
        server.telos("users", "create", "--email", "ines@example.org", "--role", "member",
                     TELOS_NEW_USER_PASSWORD=PASSWORD)
        with httpx.Client(base_url=server.url, follow_redirects=False) as client:
            browser = Browser(client)  # type: ignore[arg-type]
            sent = browser.submit("/reset", {"email": "ines@example.org"})
            assert sent.status_code == 200 and "Check your e-mail" in sent.text
            message = message_from_bytes(wait_for_mail(server.outbox))
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            link = re.search(r"(http://\S+/reset/\S+)", body.decode())
            assert link, body
            assert link.group(1).startswith(f"{server.url}/reset/")
            page = client.get(link.group(1).removeprefix(server.url))
            assert page.status_code == 200 and 'name="password"' in page.text


def test_a_worker_that_dies_is_started_again_and_the_mail_still_goes(tmp_path: Path) -> None:
    with LiveServer(fresh_database_url("sqlite", tmp_path, "telos_live_restart"), tmp_path,
                    base_url=False) as server:
        server.telos("users", "create", "--email", "jon@example.org", "--role", "member",
                     TELOS_NEW_USER_PASSWORD=PASSWORD)
        first = server.worker_pid()
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.worker_pids() in ([], [first]):
            time.sleep(0.2)
        assert server.worker_pid() != first
        assert "the worker stopped" in server.output()
        with httpx.Client(base_url=server.url, follow_redirects=False) as client:
            sent = Browser(client).submit("/reset", {"email": "jon@example.org"})  # type: ignore[arg-type]
            assert sent.status_code == 200
        message = message_from_bytes(wait_for_mail(server.outbox, seconds=60))
        assert message["To"] == "jon@example.org"
