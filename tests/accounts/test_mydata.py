from sqlmodel import Session

from app.journeys import statements
from app.journeys.definitions import Wave
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user
from tests.surveys.test_results import enrolled, send


def test_member_downloads_all_their_own_data_and_nobody_elses(
    browser: Browser, db: Session
) -> None:
    email, enrolment = enrolled(db, "walk")
    send(db, enrolment, Wave.pre, "happiness", 1)
    statements.save_version(db, enrolment=enrolment, text="To help <b>neighbours</b> grow food",
                            parts={})
    other_email, other = enrolled(db, "walk")
    statements.save_version(db, enrolment=other, text="Someone else's secret purpose", parts={})
    db.commit()
    browser.login(email, PASSWORD)
    data = browser.get("/profile/data.json")
    assert data.headers["content-disposition"].startswith("attachment")
    body = data.json()
    assert body["account"]["email"] == email
    assert "password_hash" not in body["account"]
    assert body["purpose_statements"][0]["text"] == "To help <b>neighbours</b> grow food"
    assert body["questionnaires"][0]["instrument_key"] == "happiness"
    assert body["questionnaires"][0]["scores"]
    page = browser.get("/profile/data").text
    assert "To help &lt;b&gt;neighbours&lt;/b&gt; grow food" in page
    for response in (data.text, page):
        assert "Someone else" not in response and other_email not in response


def test_data_download_needs_a_sign_in(browser: Browser, db: Session) -> None:
    create_user(db)
    assert browser.get("/profile/data.json").headers["location"].startswith("/login")
