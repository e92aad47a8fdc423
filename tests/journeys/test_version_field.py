"""A step form's version field that Telos did not write is refused in words, never a 500."""

from sqlmodel import Session

from tests.browsing import Browser
from tests.journeys.walking import answer, open_step, post_step, start, walk_to

HUGE = "9" * 23  # beyond any 64-bit column: SQLite raised OverflowError on it


def test_autosave_with_a_huge_version_says_not_saved(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    page = open_step(browser, "moments")
    response = post_step(browser, page, {"prompt-alive": "Typing…", "version": HUGE},
                         autosave=True)
    assert response.status_code == 400
    assert "Not saved:" in response.text and "reload the page" in response.text
    assert answer(db, enrolment, "moments") is None


def test_saving_with_a_huge_version_keeps_the_text_and_says_why(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "moments")
    page = open_step(browser, "moments")
    response = post_step(browser, page, {"prompt-alive": "Kept for me", "version": HUGE},
                         action="save")
    assert response.status_code == 400
    assert "reload the page" in response.text
    assert "Kept for me" in response.text
    assert answer(db, enrolment, "moments") is None
