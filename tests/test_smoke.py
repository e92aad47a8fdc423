from tests.browsing import Browser
from tests.factories import PASSWORD, create_user


def test_landing_page_invites_sign_up(browser: Browser) -> None:
    response = browser.get("/")
    assert response.status_code == 200
    assert "Create your account" in response.text


def test_member_logs_in_and_sees_home(browser: Browser, db) -> None:
    user = create_user(db)
    response = browser.login(user.email, PASSWORD)
    assert response.headers["location"] == "/home"
    home = browser.get("/home")
    assert home.status_code == 200
    assert f"Hello, {user.display_name}" in home.text
