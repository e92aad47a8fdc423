"""Asking the mentor or someone of the circle for feedback by name, and hearing when they
answer: by e-mail and on the home page."""

from sqlmodel import Session, select

from app.accounts import consent
from app.accounts.models import User
from app.journeys.models import FeedbackRequest, FeedbackStatus
from app.matching import service as matching
from app.settings import Settings
from tests.browsing import Browser
from tests.community.circle_factories import cohort_with_members, published
from tests.journeys.test_outside_feedback import ask_outsider, sent_mails
from tests.journeys.walking import (
    another_browser,
    open_step,
    save_step,
    sign_in,
    start,
    user_of,
    walk_to,
)
from tests.matching.factories import PRIVATE_REFLECTION, create_member, create_mentor

QUESTION = "Is the second sentence true of me?"


def _connected_member(browser: Browser, db: Session, settings: Settings
                      ) -> tuple[User, User, User]:
    """A member in a published circle with an accepted mentor, walked to the ask step;
    returns them, their mentor and someone of their circle."""
    cohort, members = cohort_with_members(db, 4)
    published(db, settings, cohort)
    member = members[0]
    document = consent.current_document(db)
    assert document is not None and member.id is not None
    consent.give(db, user_id=member.id, document=document, research_use=False)
    mentor = create_mentor(db, name="Mentor Maya")
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=settings.base_url)
    matching.accept(db, match=match, base_url=settings.base_url)
    db.commit()
    sign_in(browser, db, member)
    walk_to(browser, "ask")
    return member, mentor, members[1]


def test_the_member_asks_a_circle_member_by_name_and_hears_of_the_answer(
    browser: Browser, db: Session, settings: Settings
) -> None:
    member, mentor, peer = _connected_member(browser, db, settings)
    stranger = create_member(db, name="Stranger Sam")
    page = open_step(browser, "ask").text
    assert "Ask someone you know on Telos" in page
    assert mentor.display_name in page and "(your mentor)" in page
    assert peer.display_name in page and "(in your circle 1)" in page
    assert stranger.display_name not in page

    sent_mails(db, settings)  # the circle and mentor e-mails so far
    response = save_step(browser, "ask", {"reviewer_id": str(peer.id), "question": QUESTION})
    assert response.status_code == 303, response.text
    request = db.exec(select(FeedbackRequest)).one()
    assert (request.reviewer_id, request.requester_id) == (peer.id, member.id)
    assert any(mail.to == peer.email and "asks for your feedback" in mail.subject
               for mail in sent_mails(db, settings))

    reviewer = another_browser(browser)
    sign_in(reviewer, db, peer)
    assert "1 person asks for your comments" in reviewer.get("/home").text
    asked = reviewer.get(f"/feedback/{request.id}").text
    assert QUESTION in asked and "I help people find their feet." in asked
    assert PRIVATE_REFLECTION not in asked
    url = f"/feedback/{request.id}"
    sent = reviewer.submit(url, {"comment": "Yes, and say where."}, page=url)
    assert sent.status_code == 303

    told = [mail for mail in sent_mails(db, settings) if mail.to == member.email]
    assert told and told[-1].subject == f"{peer.display_name} answered your request for feedback"
    assert "/purpose#fb-heading" in told[-1].body and "Yes, and say where." not in told[-1].body
    home = browser.get("/home").text
    assert "Feedback for you" in home and f"{peer.display_name} answered your request" in home
    assert "Yes, and say where." in browser.get("/purpose").text
    assert "Feedback for you" not in browser.get("/home").text


def test_the_mentor_is_asked_by_name(browser: Browser, db: Session, settings: Settings) -> None:
    _member, mentor, _peer = _connected_member(browser, db, settings)
    assert save_step(browser, "ask", {"reviewer_id": str(mentor.id)}).status_code == 303
    request = db.exec(select(FeedbackRequest)).one()
    assert request.reviewer_id == mentor.id and request.status == FeedbackStatus.requested


def test_only_connected_people_can_be_asked_by_name(
    browser: Browser, db: Session, settings: Settings
) -> None:
    member, _mentor, peer = _connected_member(browser, db, settings)
    stranger = create_member(db, name="Stranger Sam")
    for chosen in (stranger.id, member.id, "x", "9" * 30):
        refused = save_step(browser, "ask", {"reviewer_id": str(chosen), "question": QUESTION})
        assert refused.status_code == 400
        assert "Choose one of the people listed" in refused.text and QUESTION in refused.text
    both = save_step(browser, "ask", {"reviewer_id": str(peer.id),
                                      "reviewer_email": "someone@example.org"})
    assert both.status_code == 400 and "Ask one person at a time" in both.text
    assert db.exec(select(FeedbackRequest)).first() is None


def test_an_answer_from_outside_telos_is_told_too(
    browser: Browser, db: Session, settings: Settings
) -> None:
    enrolment = start(browser, db)
    member = user_of(db, enrolment)
    link = ask_outsider(browser, db, settings)
    visitor = another_browser(browser)
    assert visitor.submit(link, {"comment": "Sounds like you.", "name": "Rosa"},
                          page=link).status_code == 303
    told = [mail for mail in sent_mails(db, settings) if mail.to == member.email]
    assert [mail.subject for mail in told] == ["Rosa answered your request for feedback"]
    assert "Rosa answered your request" in browser.get("/home").text
