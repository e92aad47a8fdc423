"""A reply that says "saved" was committed before it was sent: SIGKILL right after it loses nothing."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

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


def flashes(response: httpx.Response) -> list[str]:
    cookie = response.cookies.get(FLASH_COOKIE)
    assert cookie, "the reply carries no flash message"
    messages = load_signed(SECRET_KEY.encode(), "flash", cookie)
    assert isinstance(messages, list), "the flash cookie is not signed with the server's key"
    return [message["message"] for message in messages]


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
            saved = submit(client, "/profile", "/profile", {"display_name": "After Kill"})
            server.kill()
        assert saved.status_code == 303, saved.text
        assert "Profile saved." in flashes(saved)

    with LiveServer(database_url, tmp_path) as restarted, logged_in(restarted.url, email) as client:
        profile = form_fields(client, "/profile", "/profile")
    assert profile["display_name"] == "After Kill"
