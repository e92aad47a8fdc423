"""What a member writes stays theirs: nobody else reads it by guessing an address."""

from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.community import service as community
from app.journeys.models import Enrolment, FeedbackRequest
from tests.browsing import Browser
from tests.journeys.walking import (
    another_browser,
    enrolment_of,
    save_step,
    sign_in,
    walk_to,
)

REFLECTION = "Secret reflection: the night I left home"
STATEMENT = "Secret statement: I mend what others throw away"
REVISED = "Secret revision: I mend what others throw away, and teach it"
COMMITMENT = "Secret commitment: apologise to Sam"
SECRETS = (REFLECTION, STATEMENT, REVISED, COMMITMENT)


@dataclass(frozen=True)
class Writer:
    user: User
    enrolment: Enrolment
    cohort_id: int
    request_id: int
    reviewer: Browser


def a_member_with_secrets(browser: Browser, db: Session) -> Writer:
    """A cohort member who wrote private things and asked one peer for feedback."""
    user = sign_in(browser, db)
    cohort = community.create_cohort(db, name="Spring", journey_key="walk",
                                     starts_on=date(2026, 3, 1), ends_on=None, created_by_id=None)
    db.commit()
    assert browser.submit(f"/join/{cohort.invite_code}", page="/home").status_code == 303
    walk_to(browser, "moments")
    save_step(browser, "moments", {"prompt-alive": REFLECTION})
    walk_to(browser, "draft")
    save_step(browser, "draft", {"statement": STATEMENT})
    reviewer = another_browser(browser)
    peer = sign_in(reviewer, db)
    assert save_step(browser, "ask", {"reviewer_email": peer.email}).status_code == 303
    save_step(browser, "revise", {"statement": REVISED})
    save_step(browser, "share", {"visibility": "mentor"})
    assert save_step(browser, "plan", {"commitment-0": COMMITMENT,
                                       "due-0": "2030-05-01"}).status_code == 303
    request = db.exec(select(FeedbackRequest)).one()
    assert cohort.id is not None and request.id is not None
    return Writer(user, enrolment_of(db, user), cohort.id, request.id, reviewer)


def guessed_urls(writer: Writer) -> list[str]:
    return [
        "/home", "/journey", "/journey/steps/moments", "/journey/steps/draft",
        "/journey/steps/revise", "/journey/steps/plan", "/purpose", "/feedback",
        f"/feedback/{writer.request_id}", "/community", "/cohorts",
        f"/cohorts/{writer.cohort_id}", "/surveys/pre", "/surveys/pre/happiness",
        "/admin/users", f"/admin/users/{writer.user.id}", "/admin/audit",
    ]


@pytest.mark.parametrize("role", [Role.member, Role.mentor, Role.manager, Role.researcher,
                                  Role.admin])
def test_nobody_else_reads_a_members_private_writing(
    browser: Browser, db: Session, role: Role
) -> None:
    writer = a_member_with_secrets(browser, db)
    snoop = another_browser(browser)
    sign_in(snoop, db, roles=(role,))
    if role == Role.member:  # on the same journey, so every step address is real for them
        snoop.submit("/journey/start", {"journey": "walk"}, page="/journey")
    for url in guessed_urls(writer):
        response = snoop.get(url)
        assert response.status_code < 500, url
        for secret in SECRETS:
            assert secret not in response.text, f"{role.value} read {secret!r} at {url}"
    feedback = snoop.get(f"/feedback/{writer.request_id}")
    assert feedback.status_code == 404
    answered = snoop.submit(f"/feedback/{writer.request_id}", {"comment": "Let me in"},
                            page="/home")
    assert answered.status_code == 404


def test_a_manager_sees_cohort_progress_but_never_the_text(
    browser: Browser, db: Session
) -> None:
    writer = a_member_with_secrets(browser, db)
    manager = another_browser(browser)
    sign_in(manager, db, roles=(Role.manager,))
    page = manager.get(f"/cohorts/{writer.cohort_id}")
    assert page.status_code == 200
    assert f"<tr><td>{writer.user.display_name}</td><td>active</td><td>12</td></tr>" in page.text
    assert not any(secret in page.text for secret in SECRETS)


def test_the_reviewer_reads_only_the_version_shared_with_them(
    browser: Browser, db: Session
) -> None:
    writer = a_member_with_secrets(browser, db)
    page = writer.reviewer.get(f"/feedback/{writer.request_id}")
    assert page.status_code == 200
    assert STATEMENT in page.text
    assert REFLECTION not in page.text and REVISED not in page.text
    assert COMMITMENT not in page.text
    for url in ("/journey/steps/moments", "/purpose"):
        response = writer.reviewer.get(url)
        assert response.status_code == 404
        assert not any(secret in response.text for secret in SECRETS)


def test_a_statement_shared_with_a_mentor_is_not_on_the_community_page(
    browser: Browser, db: Session
) -> None:
    writer = a_member_with_secrets(browser, db)
    shared = writer.reviewer.get("/community")
    assert shared.status_code == 200
    assert not any(secret in shared.text for secret in SECRETS)


def test_the_writer_still_reads_everything(browser: Browser, db: Session) -> None:
    a_member_with_secrets(browser, db)
    purpose = browser.get("/purpose").text
    assert REVISED in purpose and STATEMENT in purpose and COMMITMENT in purpose
    assert REFLECTION in browser.get("/journey/steps/moments").text
