"""One-line fields refuse control characters in words beside the field, keeping the input:
a line break in a display name once broke every e-mail that named the person."""

import pytest
from sqlmodel import Session

from app.accounts import service as accounts
from app.community.content_forms import ContentForm
from app.forms import typed_text_problem, validate
from tests.browsing import Browser
from tests.factories import create_user, signed_in

INJECTED = "Peer\nX-Injected: 1"


def test_sign_up_refuses_a_line_break_in_the_name_and_keeps_the_input(
    browser: Browser, db: Session
) -> None:
    response = browser.submit("/signup", {
        "display_name": INJECTED, "email": "peer@example.org", "password": "a long enough pass",
    })
    assert response.status_code == 400
    assert "Keep this on one line" in response.text
    assert 'value="peer@example.org"' in response.text and "X-Injected: 1" in response.text
    assert accounts.get_user_by_email(db, "peer@example.org") is None


def test_the_profile_refuses_a_control_character_in_the_name(
    browser: Browser, db: Session
) -> None:
    user = create_user(db, display_name="Ana")
    signed_in(browser.client, db, browser.client.app.state.settings, user)  # type: ignore[attr-defined]
    page = browser.get("/profile")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    response = browser.submit("/profile", {
        "display_name": "Ana\x1b[31m", "email": user.email, "locale": "en",
        "time_zone": "Europe/Madrid", "version": version,
    }, page="/profile")
    assert response.status_code == 400
    assert "invisible control character (U+001B)" in response.text
    db.refresh(user)
    assert user.display_name == "Ana"


@pytest.mark.parametrize("text", ["a\tb", "a\rb", "a\u2028b", "a\u202eb", "a\x00b", "a\x85b"])
def test_one_line_text_refuses_breaks_tabs_and_hidden_controls(text: str) -> None:
    assert typed_text_problem(text) is not None


@pytest.mark.parametrize("text", ["Zoë Ødegård", "Família 👨\u200d👩\u200d👧", "שלום\u200f"])
def test_names_people_write_are_kept(text: str) -> None:
    assert typed_text_problem(text) is None


def test_a_multi_line_field_takes_line_breaks_but_not_hidden_controls() -> None:
    base = {"title": "Walks", "summary": "Line one\nline two", "kind": "article",
            "url": "https://example.org/walks",
            "language": "en"}
    form, errors = validate(ContentForm, base)
    assert form is not None and errors == {}
    _form, errors = validate(ContentForm, {**base, "title": "Walks\nX"})
    assert errors == {"title": "Keep this on one line: remove the line break."}
    _form, errors = validate(ContentForm, {**base, "summary": "Line\x07one"})
    assert "U+0007" in errors["summary"]


def test_a_huge_number_in_a_form_is_refused() -> None:
    from app.accounts.forms import ProfileForm

    _form, errors = validate(ProfileForm, {"display_name": "Ana", "email": "a@example.org",
                                           "locale": "en", "time_zone": "Europe/Madrid",
                                           "version": "9" * 23})
    assert errors == {"version": "That number is too large."}
