"""Feedback from someone outside Telos: an e-mailed single-use link, no account needed."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlmodel import Session, select

from app import jobs
from app.accounts import ratelimit
from app.clock import now
from app.jobs.models import Job
from app.journeys import outside, statements
from app.journeys import tasks as journey_tasks
from app.journeys.models import Enrolment, FeedbackRequest, FeedbackStatus
from app.mail import SENT_ADDRESS
from app.security import sign, token_hash
from app.settings import Settings
from tests.browsing import Browser
from tests.jobs import delivered, run_due_jobs
from tests.journeys.walking import (
    WALK,
    another_browser,
    answer,
    open_step,
    save_step,
    sign_in,
    start,
    user_of,
    walk_to,
)

OUTSIDER = "aunt.rosa@example.net"
STATEMENT = str(WALK["draft"]["statement"])


@dataclass(frozen=True)
class Sent:
    to: str
    subject: str
    body: str


def sent_mails(db: Session, settings: Settings) -> list[Sent]:
    mails = []
    for path in delivered(db, settings):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body()
        assert body is not None
        mails.append(Sent(str(message["To"]), str(message["Subject"]), body.get_content()))
    return mails


def link_in(mail: Sent) -> str:
    match = re.search(r"http://testserver(/reply/[A-Za-z0-9_-]+)", mail.body)
    assert match, mail.body
    return match.group(1)


def ask_outsider(browser: Browser, db: Session, settings: Settings, *,
                 address: str = OUTSIDER, question: str = "Does it sound like me?") -> str:
    """A member on the walk asks `address` (no account) at the ask step; returns the link."""
    walk_to(browser, "ask")
    response = save_step(browser, "ask", {"reviewer_email": address, "question": question})
    assert response.status_code == 303, response.text
    mails = [mail for mail in sent_mails(db, settings) if mail.to == address]
    assert len(mails) == 1
    return link_in(mails[-1])


def the_request(db: Session) -> FeedbackRequest:
    db.expire_all()
    return db.exec(select(FeedbackRequest)).one()


def frozen_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    for module in (outside, statements, journey_tasks):
        monkeypatch.setattr(module, "now", lambda: moment)


def test_anyone_asked_by_email_answers_without_an_account_and_the_member_reads_it(
    browser: Browser, db: Session, settings: Settings
) -> None:
    enrolment = start(browser, db)
    member = user_of(db, enrolment)
    link = ask_outsider(browser, db, settings)
    request = the_request(db)
    assert request.reviewer_id is None and request.reviewer_email == OUTSIDER
    assert request.token_hash == token_hash(link.removeprefix("/reply/"))
    assert request.expires_at is not None
    assert timedelta(days=13, hours=23) < request.expires_at - now() <= timedelta(days=14)
    assert f"{OUTSIDER}: waiting for an answer" in open_step(browser, "ask").text
    # The address lives in the open request only, not in the step's saved answer.
    saved = answer(db, enrolment, "ask")
    assert saved is not None and OUTSIDER not in str(saved.data)

    visitor = another_browser(browser)
    page = visitor.get(link)
    assert page.status_code == 200
    assert f"{member.display_name} asks for your feedback" in page.text
    assert STATEMENT in page.text and "Does it sound like me?" in page.text
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert page.headers["x-robots-tag"] == "noindex, nofollow"

    sent = visitor.submit(link, {"comment": "It does. Say who.", "name": "Rosa"}, page=link)
    assert sent.status_code == 303 and sent.headers["location"] == link
    request = the_request(db)
    assert (request.status, request.comment, request.reviewer_name) == (
        FeedbackStatus.given, "It does. Say who.", "Rosa")
    assert request.reviewer_email is None and request.answered_at is not None
    thanks = visitor.get(link)
    assert "Thank you. " + member.display_name in thanks.text
    assert "This link has been used" in thanks.text and STATEMENT not in thanks.text

    mine = browser.get("/purpose").text
    assert "It does. Say who." in mine and "Rosa, on version 1" in mine
    assert "It does. Say who." in open_step(browser, "revise").text


def test_the_link_shows_only_the_statement_the_question_and_a_display_name(
    browser: Browser, db: Session, settings: Settings
) -> None:
    enrolment = start(browser, db)
    member = user_of(db, enrolment)
    link = ask_outsider(browser, db, settings)
    page = another_browser(browser).get(link).text
    for private in (member.email, WALK["moments"]["prompt-alive"], "Patience",
                    "A walking partner", "Gardening", "Call my sister", OUTSIDER):
        assert str(private) not in page
    assert 'href="/journey' not in page and 'href="/purpose' not in page


def test_the_mail_job_forgets_the_address_once_sent(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    ask_outsider(browser, db, settings)
    job = db.exec(select(Job).where(Job.name == "mail.send")).one()
    assert job.payload["to"] == SENT_ADDRESS and OUTSIDER not in str(job.payload)


def test_bad_answers_are_refused_beside_the_field_with_the_text_kept(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    link = ask_outsider(browser, db, settings)
    visitor = another_browser(browser)
    empty = visitor.submit(link, {"comment": "   ", "name": "Rosa"}, page=link)
    assert empty.status_code == 400
    assert ('<small id="comment-message" class="field-error">Write a comment before '
            "sending it.</small>") in empty.text
    assert 'value="Rosa"' in empty.text
    huge = visitor.submit(link, {"comment": "w" * 3001, "name": "n" * 81}, page=link)
    assert huge.status_code == 400
    assert "Keep your comment under 3000 characters; it has 3001." in huge.text
    assert f">{'w' * 3001}</textarea>" in huge.text
    assert 'id="name-message"' in huge.text
    request = the_request(db)
    assert request.status == FeedbackStatus.requested and request.reviewer_email == OUTSIDER


def test_a_link_answers_once(browser: Browser, db: Session, settings: Settings) -> None:
    start(browser, db)
    link = ask_outsider(browser, db, settings)
    visitor = another_browser(browser)
    assert visitor.submit(link, {"comment": "First."}, page=link).status_code == 303
    again = visitor.submit(link, {"comment": "Second."}, page=link)
    assert again.status_code == 200 and "This link has been used" in again.text
    assert the_request(db).comment == "First."


def test_two_submissions_racing_end_the_request_once(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    token = ask_outsider(browser, db, settings).removeprefix("/reply/")
    # Both opened the link while it was open; the UPDATE decides, not what they read.
    first, second = (outside.open_link(db, token=token) for _ in range(2))
    assert outside.answer(db, link=first, comment="One.", name="")
    assert not outside.answer(db, link=second, comment="Two.", name="")
    assert the_request(db).comment == "One."


def test_continuing_again_sends_no_second_link(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    ask_outsider(browser, db, settings)
    again = save_step(browser, "ask", {"reviewer_email": OUTSIDER.upper()})
    assert again.status_code == 303
    # The field is empty again once the link is sent; continuing asks nobody new.
    assert save_step(browser, "ask", {"reviewer_email": ""}).status_code == 303
    assert len(list(db.exec(select(FeedbackRequest)))) == 1
    assert len(sent_mails(db, settings)) == 1


def test_a_link_expires_after_14_days_and_the_hourly_job_forgets_the_address(
    browser: Browser, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(browser, db)
    link = ask_outsider(browser, db, settings)
    request = the_request(db)
    assert request.expires_at is not None
    visitor = another_browser(browser)

    frozen_at(monkeypatch, request.expires_at - timedelta(minutes=1))
    assert visitor.get(link).status_code == 200
    frozen_at(monkeypatch, request.expires_at)
    expired = visitor.get(link)
    assert expired.status_code == 410 and "This link has expired." in expired.text
    assert STATEMENT not in expired.text
    late = visitor.submit(link, {"comment": "Too late?"}, page=link)
    assert late.status_code == 410
    assert "the link expired unanswered" in open_step(browser, "ask").text

    jobs.enqueue(db, "journeys.feedback_links")
    run_due_jobs(db, settings)
    request = the_request(db)
    assert (request.status, request.reviewer_email, request.comment) == (
        FeedbackStatus.expired, None, "")
    assert "This link has expired." in visitor.get(link).text


def test_the_hourly_job_leaves_open_links_alone(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    ask_outsider(browser, db, settings)
    jobs.enqueue(db, "journeys.feedback_links")
    run_due_jobs(db, settings)
    request = the_request(db)
    assert (request.status, request.reviewer_email) == (FeedbackStatus.requested, OUTSIDER)


def test_a_withdrawn_link_says_so_and_nothing_else(
    browser: Browser, db: Session, settings: Settings
) -> None:
    enrolment = start(browser, db)
    member = user_of(db, enrolment)
    link = ask_outsider(browser, db, settings)
    request = the_request(db)
    step = open_step(browser, "ask")
    withdrawn = browser.client.post(
        f"/purpose/feedback/{request.id}/withdraw",
        data={"back": "/journey/steps/ask", "csrf_token": step.form()["csrf_token"]})
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == "/journey/steps/ask"
    request = the_request(db)
    assert (request.status, request.reviewer_email) == (FeedbackStatus.withdrawn, None)
    assert f"{OUTSIDER}" not in open_step(browser, "ask").text

    visitor = another_browser(browser)
    page = visitor.get(link)
    assert page.status_code == 410
    assert "This request for feedback was withdrawn." in page.text
    for hidden in (STATEMENT, "Does it sound like me?", member.display_name):
        assert hidden not in page.text
    assert visitor.submit(link, {"comment": "Hello?"}, page=link).status_code == 410
    assert the_request(db).comment == ""

    again = browser.submit(f"/purpose/feedback/{request.id}/withdraw", page="/purpose")
    assert again.status_code == 303 and again.headers["location"] == "/purpose"
    assert the_request(db).status == FeedbackStatus.withdrawn


def test_another_member_cannot_withdraw_my_request(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    ask_outsider(browser, db, settings)
    request = the_request(db)
    other = another_browser(browser)
    sign_in(other, db)
    refused = other.submit(f"/purpose/feedback/{request.id}/withdraw", page="/purpose")
    assert refused.status_code == 404
    assert the_request(db).status == FeedbackStatus.requested


def test_a_request_to_an_account_holder_is_not_withdrawn_here(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    reviewer = sign_in(another_browser(browser), db)
    save_step(browser, "ask", {"reviewer_email": reviewer.email})
    request = the_request(db)
    refused = browser.submit(f"/purpose/feedback/{request.id}/withdraw", page="/purpose")
    assert refused.status_code == 404
    assert the_request(db).status == FeedbackStatus.requested


def test_an_unknown_link_is_not_found(browser: Browser) -> None:
    response = browser.get("/reply/not-a-real-token")
    assert response.status_code == 404
    assert "This feedback link is not valid" in response.text


def test_a_member_sends_at_most_ten_links_a_day(
    browser: Browser, db: Session, settings: Settings
) -> None:
    start(browser, db)
    walk_to(browser, "ask")
    for number in range(10):
        sent = save_step(browser, "ask", {"reviewer_email": f"friend{number}@example.net"})
        assert sent.status_code == 303, sent.text
    refused = save_step(browser, "ask", {"reviewer_email": "friend10@example.net"})
    assert refused.status_code == 400
    assert ('<small id="reviewer_email-message" class="field-error">You have sent as many '
            "feedback links today as Telos allows.") in refused.text
    assert 'value="friend10@example.net"' in refused.text
    assert len(list(db.exec(select(FeedbackRequest)))) == 10
    assert len(sent_mails(db, settings)) == 10


def test_one_address_gets_at_most_three_links_a_day(
    browser: Browser, db: Session, settings: Settings
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "ask")
    key = sign(settings.signing_key, "feedback-address", OUTSIDER)
    for _ in range(3):  # three other members asked this address today
        ratelimit.hit(db, ratelimit.FEEDBACK_INVITES_PER_ADDRESS, key)
    db.commit()
    refused = save_step(browser, "ask", {"reviewer_email": OUTSIDER})
    assert refused.status_code == 400
    assert "This address has been sent as many feedback links today" in refused.text
    assert list(db.exec(select(FeedbackRequest))) == []
    assert db.get(Enrolment, enrolment.id) is not None
    assert sent_mails(db, settings) == []
