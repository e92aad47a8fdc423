"""Cross-cutting behaviour: security headers, error pages, health."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import migrate
from app.deps import get_session
from app.main import create_app
from app.settings import Settings
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user


def test_security_headers_on_every_response(browser: Browser) -> None:
    for path in ("/", "/login", "/no-such-page", "/static/telos.css"):
        headers = browser.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path


def test_pages_have_no_inline_script(browser: Browser) -> None:
    for path in ("/", "/login", "/signup", "/reset"):
        html = browser.get(path).text
        assert "<script>" not in html and " onclick=" not in html, path
        assert 'style="' not in html, path


def test_signed_in_pages_are_not_stored(browser: Browser, db: Session) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    assert browser.get("/home").headers["cache-control"] == "no-store"


def test_pages_behind_a_secret_link_are_not_stored_even_signed_out(browser: Browser) -> None:
    for path in ("/reset/some-token", "/invitations/some-token", "/reply/some-token",
                 "/reminders/off/some-token"):
        assert browser.get(path).headers["cache-control"] == "no-store", path
    assert browser.get("/login").headers["cache-control"] == "no-cache"


def test_not_found_page_in_the_site_layout(browser: Browser) -> None:
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert 'class="skip-link"' in response.text


def test_not_found_page_for_an_unknown_address_knows_who_is_signed_in(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert "Log out" in response.text and 'href="/profile"' in response.text
    assert 'href="/signup"' not in response.text and 'href="/login"' not in response.text


def test_an_id_that_is_not_a_number_is_a_missing_page_not_a_raw_422(
    browser: Browser, db: Session
) -> None:
    admin = create_user(db, roles=["admin"])  # type: ignore[list-item]
    browser.login(admin.email, PASSWORD)
    response = browser.get("/admin/users/not-a-number")
    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert "Log out" in response.text and 'href="/login"' not in response.text


def test_server_error_page_in_the_site_layout(app: FastAPI) -> None:
    def broken_database() -> Iterator[Session]:
        raise RuntimeError("simulated failure")
        yield  # a generator, like the real dependency

    app.dependency_overrides[get_session] = broken_database
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "simulated failure" not in response.text and "Traceback" not in response.text


def test_healthz_reports_a_reachable_database(browser: Browser) -> None:
    response = browser.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def unreachable_app(tmp_path: object) -> Iterator[FastAPI]:
    settings = Settings(
        var_dir=f"{tmp_path}/var", secret_key="x" * 32,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


def test_healthz_reports_an_unreachable_database(unreachable_app: FastAPI) -> None:
    response = TestClient(unreachable_app).get("/healthz")
    assert response.status_code == 503


def test_error_pages_after_a_rollback_still_show_who_is_signed_in(tmp_path: Path) -> None:
    """Outside the test transaction: the real per-request session rolls back, then renders."""
    url = f"sqlite:///{tmp_path}/own.db"
    migrate.upgrade(url)
    app = create_app(Settings(var_dir=tmp_path, database_url=url, secret_key="k" * 32))
    with Session(app.state.engine) as session:
        create_user(session, email="solo@example.org")
    client = Browser(TestClient(app, follow_redirects=False))
    client.login("solo@example.org", PASSWORD)
    for path, status in (("/admin/users", 403), ("/journey/steps/nowhere", 404)):
        response = client.get(path)
        assert response.status_code == status, path
        assert "Log out" in response.text, path
    app.state.engine.dispose()


def test_author_text_wraps_as_prose_and_member_text_keeps_its_lines() -> None:
    from app.web import paragraphs, prose

    assert prose("One line\nwrapped here.\n\nNext <b>") == (
        "<p>One line wrapped here.</p><p>Next &lt;b&gt;</p>")
    assert paragraphs("A poem\nin two lines") == "<p>A poem<br>in two lines</p>"
