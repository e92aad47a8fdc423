from sqlmodel import Session
from tests.browsing import Browser
from tests.journeys.walking import start, walk_to, open_step


def test_walk(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    walk_to(browser)
    print(browser.get("/journey").text[-3000:])
    print(browser.get("/purpose").text)
