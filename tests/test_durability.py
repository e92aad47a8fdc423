"""A reply that says "saved" was committed before it was sent: SIGKILL just after loses nothing."""

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from app.security import load_signed
from app.web import FLASH_COOKIE
from tests.databases import BACKENDS, drop_postgres_database, fresh_database_url
from tests.live import SECRET_KEY, LiveServer

pytestmark = pytest.mark.live

PASSWORD = "a long enough live test password"


class FormFields(HTMLParser):
    """The values a browser would submit from the form posting to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.select: str | None = None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and "name" in attributes:
            self.values[attributes["name"]] = attributes.get("value", "")
        elif tag == "select":
            self.select = attributes.get("name")
        elif tag == "option" and self.select and "selected" in attributes:
            self.values[self.select] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_fields(client: httpx.Client, page: str, action: str) -> dict[str, str]:
    response = client.get(page)
    assert response.status_code == 200, response.text
    parser = FormFields(action)
    parser.feed(response.text)
    assert "csrf_token" in parser.values, f"no form posting to {action} on {page}"
    return parser.values


def submit(client: httpx.Client, page: str, action: str, data: dict[str, str]) -> httpx.Response:
    return client.post(action, data={**form_fields(client, page, action), **data})


def sign_up(url: str, name: str, email: str) -> None:
    with httpx.Client(base_url=url) as client:
        response = submit(client, "/signup", "/signup",
                          {"display_name": name, "email": email, "password": PASSWORD})
        assert response.status_code == 303, response.text


@contextmanager
def logged_in(url: str, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url) as client:
        response = submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 303, response.text
        yield client


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]

    def flashes(self) -> list[str]:
        """The flash messages the reply sets, read with the server's signing key."""
        cookies: SimpleCookie = SimpleCookie()
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                cookies.load(value)
        if FLASH_COOKIE not in cookies:
            return []
        messages = load_signed(SECRET_KEY.encode(), "flash", cookies[FLASH_COOKIE].value)
        assert isinstance(messages, list), "the flash cookie does not verify"
        return [message["message"] for message in messages]


def post_then_kill(server: LiveServer, client: httpx.Client, path: str,
                   fields: dict[str, str]) -> Reply:
    """POST with `client`'s cookies and SIGKILL the server the moment the reply's first
    byte arrives, then read what it had sent.

    A raw socket rather than httpx: httpx parses the whole head before returning, and
    in that time a commit made just after sending can still finish and hide the bug.
    """
    body = urlencode(fields).encode()
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {cookies}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        received = connection.recv(65536)
        server.kill()
        received += drain(connection)
    return parse_reply(received)


def drain(connection: socket.socket) -> bytes:
    chunks = []
    with suppress(ConnectionResetError):
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse_reply(received: bytes) -> Reply:
    head, separator, _body = received.partition(b"\r\n\r\n")
    assert separator, f"the reply's head was cut off: {received!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(name.strip(), value.strip())
               for name, _, value in (line.partition(":") for line in lines)]
    return Reply(status=int(status_line.split()[1]), headers=headers)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    name = f"telos_live_{os.getpid()}"
    yield fresh_database_url(request.param, tmp_path, name)
    if request.param == "postgresql":
        drop_postgres_database(name)


def test_saved_profile_survives_sigkill_right_after_the_reply(
    database_url: str, tmp_path: Path
) -> None:
    email = "durable@example.org"
    with LiveServer(database_url, tmp_path) as server:
        sign_up(server.url, "Before Kill", email)
        with logged_in(server.url, email) as client:
            fields = {**form_fields(client, "/profile", "/profile"), "display_name": "After Kill"}
            saved = post_then_kill(server, client, "/profile", fields)
        assert saved.status == 303, saved
        assert "Profile saved." in saved.flashes()

    with LiveServer(database_url, tmp_path) as restarted, logged_in(restarted.url, email) as client:
        profile = form_fields(client, "/profile", "/profile")
    assert profile["display_name"] == "After Kill"


def member_before_the_pre_wave(database_url: str, email: str) -> None:
    """Content loaded; a member who consented and started the walk journey."""
    from sqlmodel import Session

    from app.accounts import consent
    from app.accounts import service as accounts
    from app.accounts.models import Role
    from app.db import make_engine
    from app.journeys import service as journeys
    from app.journeys.loader import load_all
    from app.surveys import waves
    from app.surveys.definitions import load_battery
    from tests.conftest import WALK_JOURNEY

    engine = make_engine(database_url)
    battery = load_battery()
    with Session(engine) as session:
        consent.store_documents(session)
        waves.store_instruments(session, battery.values())
        journeys.store_versions(session, load_all([WALK_JOURNEY], instruments=set(battery)))
        user = accounts.create_user(session, email=email, display_name="Survey Member",
                                    password=PASSWORD, roles=[Role.member])
        assert user.id is not None
        document = consent.current_document(session)
        assert document is not None
        consent.give(session, user_id=user.id, document=document, research_use=True)
        journeys.enrol(session, user_id=user.id, journey_key="walk")
        session.commit()
    engine.dispose()


def submitted_answers(database_url: str) -> list[dict[str, object]]:
    from sqlmodel import Session, select

    from app.db import make_engine
    from app.surveys.models import ResponseStatus, SurveyResponse

    engine = make_engine(database_url)
    with Session(engine) as session:
        rows = session.exec(select(SurveyResponse).where(
            SurveyResponse.status == ResponseStatus.submitted)).all()
        answers = [dict(row.answers) for row in rows]
    engine.dispose()
    return answers


def test_sent_survey_answers_survive_sigkill_right_after_the_reply(
    database_url: str, tmp_path: Path
) -> None:
    email = "survey-durable@example.org"
    with LiveServer(database_url, tmp_path) as server:
        member_before_the_pre_wave(database_url, email)
        with logged_in(server.url, email) as client:
            page = "/surveys/pre/happiness"
            fields = form_fields(client, page, page)
            items = sorted({name for name in client.get(page).text.split('name="')[1:]
                            for name in [name.split('"')[0]] if name.startswith("item-")})
            answers = {item: "1" for item in items}
            sent = post_then_kill(server, client, page,
                                  {**fields, **answers, "action": "send"})
        assert sent.status == 303, sent
        assert any("complete" in message or "Sent" in message for message in sent.flashes())
    assert submitted_answers(database_url) == [
        {item.removeprefix("item-"): 1 for item in answers}
    ]
