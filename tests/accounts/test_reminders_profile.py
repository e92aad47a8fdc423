"""The profile checkbox that turns reminder e-mails on and off."""

from sqlmodel import Session

from app.accounts.models import User
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user

CHECKED = 'name="reminders" value="yes" aria-describedby="reminders-hint" checked'


def profile_form(user: User, **changes: str) -> dict[str, object]:
    return {"display_name": user.display_name, "email": user.email, "locale": user.locale,
            "time_zone": user.time_zone, "version": str(user.version), **changes}


def test_reminders_are_on_for_a_new_account_and_shown_ticked(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    assert user.reminders
    browser.login(user.email, PASSWORD)
    page = browser.get("/profile")
    assert "Send me reminder e-mails" in page.text and CHECKED in page.text


def test_unticking_the_box_turns_reminders_off_and_ticking_it_on(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    assert browser.submit("/profile", profile_form(user)).status_code == 303
    db.refresh(user)
    assert not user.reminders
    assert CHECKED not in browser.get("/profile").text

    assert browser.submit("/profile", profile_form(user, reminders="yes")).status_code == 303
    db.refresh(user)
    assert user.reminders
    assert CHECKED in browser.get("/profile").text


def test_an_unticked_box_stays_unticked_when_the_form_comes_back_with_an_error(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    response = browser.submit("/profile", profile_form(user, time_zone="Mars/Olympus"))
    assert response.status_code == 400
    assert "Send me reminder e-mails" in response.text and CHECKED not in response.text
    db.refresh(user)
    assert user.reminders
