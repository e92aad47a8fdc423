"""The private thread of a member and their accepted mentor, through the site."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.clock import now
from app.matching import service as matching
from app.matching import threads
from app.matching.models import Match, MentorPost
from app.settings import Settings
from tests.browsing import Browser
from tests.jobs import delivered, run_due_jobs
from tests.journeys.walking import another_browser, sign_in
from tests.matching.factories import create_member, create_mentor

BASE = "http://testserver"


def accepted_pair(db: Session) -> tuple[User, User, Match]:
    member = create_member(db, name="Lena Member", email="lena@example.org")
    mentor = create_mentor(db, name="Omar Mentor", email="omar@example.org")
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    matching.accept(db, match=match, base_url=BASE)
    db.commit()
    return member, mentor, match


def post(browser: Browser, match: Match, body: str) -> object:
    url = f"/matches/{match.id}/thread"
    return browser.submit(url, {"body": body}, page=url)


def posts_of(db: Session, match: Match) -> list[MentorPost]:
    db.expire_all()
    return list(db.exec(select(MentorPost).where(MentorPost.match_id == match.id)))


def test_member_and_mentor_write_to_each_other_and_links_stay_text(
    browser: Browser, db: Session
) -> None:
    member, mentor, match = accepted_pair(db)
    sign_in(browser, db, member)
    assert f'href="/matches/{match.id}/thread"' in browser.get("/my-mentor").text
    sent = post(browser, match, 'Hello! <script>alert("x")</script> https://example.org/a')
    assert sent.status_code == 303  # type: ignore[attr-defined]
    page = browser.get(f"/matches/{match.id}/thread").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert 'href="https://example.org/a"' not in page and "https://example.org/a" in page
    theirs = another_browser(browser)
    sign_in(theirs, db, mentor)
    assert f'href="/matches/{match.id}/thread"' in theirs.get("/mentor/requests").text
    assert "Hello!" in theirs.get(f"/matches/{match.id}/thread").text
    assert post(theirs, match, "Hello Lena, glad to meet you.").status_code == 303  # type: ignore[attr-defined]
    assert "glad to meet you" in browser.get(f"/matches/{match.id}/thread").text
    assert [p.author_id for p in posts_of(db, match)] == [member.id, mentor.id]


@pytest.mark.parametrize(("body", "message"), [
    ("   \n ", "the post was empty"),
    ("a" * (threads.POST_LIMIT + 1), "the limit is 5,000"),
    ("Bad \x07 bell", "invisible control character"),
])
def test_a_post_that_cannot_be_sent_says_why_and_keeps_the_text(
    browser: Browser, db: Session, body: str, message: str
) -> None:
    member, _mentor, match = accepted_pair(db)
    sign_in(browser, db, member)
    refused = post(browser, match, body)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    page = refused.text  # type: ignore[attr-defined]
    assert message in page and 'aria-invalid="true"' in page
    if body.strip():
        assert body[:50].replace("\x07", "") in page.replace("\x07", "")
    assert "Traceback" not in page
    assert posts_of(db, match) == []


def test_after_the_pairing_ended_a_post_is_refused_with_the_text_kept(
    browser: Browser, db: Session
) -> None:
    member, _mentor, match = accepted_pair(db)
    sign_in(browser, db, member)
    assert post(browser, match, "Before the end.").status_code == 303  # type: ignore[attr-defined]
    matching.answer_fit(db, match=match, user_id=member.id or 0, fit=False)
    db.commit()
    refused = post(browser, match, "One more thing I wanted to say.")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    page = refused.text  # type: ignore[attr-defined]
    assert "This mentoring has ended" in page and "One more thing I wanted to say." in page
    assert "Before the end." in page  # what was written stays readable to the two of them
    assert [p.body for p in posts_of(db, match)] == ["Before the end."]


@pytest.mark.parametrize("roles", [(Role.member,), (Role.mentor,), (Role.manager,),
                                   (Role.member, Role.mentor, Role.manager, Role.admin)])
def test_nobody_else_reads_or_posts_in_the_thread(
    browser: Browser, db: Session, roles: tuple[Role, ...]
) -> None:
    member, _mentor, match = accepted_pair(db)
    writer = another_browser(browser)
    sign_in(writer, db, member)
    post(writer, match, "Only for Omar.")
    sign_in(browser, db, roles=roles)
    url = f"/matches/{match.id}/thread"
    expected = 404 if Role.member in roles or Role.mentor in roles else 403
    seen = browser.get(url)
    assert seen.status_code == expected and "Only for Omar." not in seen.text
    assert post(browser, match, "Let me in").status_code == expected  # type: ignore[attr-defined]
    muted = browser.submit(f"{url}/mute", {"muted": "yes"}, page="/")
    assert muted.status_code == expected
    assert [p.body for p in posts_of(db, match)] == ["Only for Omar."]


def test_a_proposed_match_has_no_thread_yet(browser: Browser, db: Session) -> None:
    member = create_member(db)
    mentor = create_mentor(db)
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    db.commit()
    sign_in(browser, db, member)
    assert browser.get(f"/matches/{match.id}/thread").status_code == 404


def thread_mails(db: Session, settings: Settings, to: str) -> list[str]:
    """The mails to `to` once the thread's mail jobs, then the mails they queued, ran."""
    run_due_jobs(db, settings)
    return [text for path in delivered(db, settings)
            if f"To: {to}" in (text := path.read_text())]


def test_the_other_side_is_told_by_email_at_most_once_an_hour_unless_muted(
    browser: Browser, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    member, mentor, match = accepted_pair(db)
    run_due_jobs(db, settings)  # the acceptance mail
    sign_in(browser, db, member)
    before = len(thread_mails(db, settings, mentor.email))
    post(browser, match, "First message.")
    post(browser, match, "Second message.")
    told = thread_mails(db, settings, mentor.email)
    assert len(told) == before + 1
    assert "Lena Member wrote to you on Telos" in told[-1]
    assert f"{BASE}/matches/{match.id}/thread" in told[-1]
    assert "First message." not in told[-1]  # the text stays in Telos
    post(browser, match, "Third, a minute later.")
    assert len(thread_mails(db, settings, mentor.email)) == before + 1  # not within the hour
    later = now() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr("app.jobs.service.now", lambda: later)
    monkeypatch.setattr("app.matching.tasks.now", lambda: later)
    told = thread_mails(db, settings, mentor.email)
    assert len(told) == before + 2 and "a new message" in told[-1]
    theirs = another_browser(browser)
    sign_in(theirs, db, mentor)
    muted = theirs.submit(f"/matches/{match.id}/thread/mute", {"muted": "yes"},
                          page=f"/matches/{match.id}/thread")
    assert muted.status_code == 303
    assert "Muted" in theirs.get(f"/matches/{match.id}/thread").text
    post(browser, match, "While muted.")
    monkeypatch.setattr("app.jobs.service.now", lambda: later + timedelta(hours=3))
    monkeypatch.setattr("app.matching.tasks.now", lambda: later + timedelta(hours=3))
    assert len(thread_mails(db, settings, mentor.email)) == before + 2
