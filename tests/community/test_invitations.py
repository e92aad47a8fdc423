"""Inviting people to a cohort by e-mail: a pasted list, each address once, the job sends,
the page shows who was invited and who joined; the copy button of the link."""

import re
import subprocess
import time
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from app.accounts.models import Role
from app.community import invites
from app.community.invite_models import CohortInvite, InviteStatus
from app.community.models import Cohort
from app.settings import Settings
from tests.browsing import Browser
from tests.community.test_routes import create, while_spring_runs  # noqa: F401 (autouse)
from tests.databases import fresh_database_url
from tests.jobs import delivered
from tests.journeys.walking import another_browser, sign_in
from tests.live import TELOS, LiveServer


def invite_page(manager: Browser, db: Session) -> tuple[Cohort, str]:
    sign_in(manager, db, roles=(Role.manager,))
    cohort = create(manager, db)
    return cohort, f"/cohorts/{cohort.id}/invitations"


def invited(db: Session, cohort: Cohort) -> list[CohortInvite]:
    db.expire_all()
    return list(db.exec(select(CohortInvite).where(CohortInvite.cohort_id == cohort.id)
                        .order_by(CohortInvite.id)))  # type: ignore[arg-type]


def test_the_cohort_page_shows_the_link_in_a_labelled_field_with_a_copy_button(
    browser: Browser, db: Session
) -> None:
    cohort, url = invite_page(browser, db)
    page = browser.get(f"/cohorts/{cohort.id}").text
    assert '<label for="invite-link">' in page
    assert re.search(r'<input id="invite-link" type="text" readonly value="[^"]+/join/', page)
    assert 'data-copy="invite-link"' in page and 'aria-live="polite"' in page
    assert '<script src="/static/copy.js" defer></script>' in page
    assert f'href="{url}"' in page
    assert browser.get("/static/copy.js").status_code == 200


def test_a_pasted_list_is_invited_once_each_and_the_job_sends_them(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, url = invite_page(browser, db)
    pasted = "ana@example.org, Bo@Example.org;\ncy@example.org\n\nana@example.org"
    response = browser.submit(url, {"addresses": pasted}, page=url)
    assert response.status_code == 303
    assert "3 invitations are on the way by e-mail." in browser.get(url).text
    rows = invited(db, cohort)
    assert [row.email for row in rows] == ["ana@example.org", "bo@example.org", "cy@example.org"]
    assert {row.status for row in rows} == {InviteStatus.queued}
    mails = [message_from_bytes(path.read_bytes()) for path in delivered(db, settings)]
    assert sorted(str(mail["To"]) for mail in mails) == [row.email for row in rows]
    body = mails[0].get_payload(decode=True)
    assert isinstance(body, bytes) and f"/join/{cohort.invite_code}" in body.decode()
    assert {row.status for row in invited(db, cohort)} == {InviteStatus.sent}
    page = browser.get(url).text
    assert page.count("Sent, not joined yet") == 3 and "3 invited · 0 joined" in page

    again = browser.submit(url, {"addresses": "cy@example.org\ndi@example.org"}, page=url)
    assert again.status_code == 303
    said = browser.get(url).text
    assert "1 invitation is on the way" in said
    assert "Already invited, so not sent again: cy@example.org." in said
    assert len(invited(db, cohort)) == 4


def test_invalid_addresses_are_listed_with_the_reason_and_nothing_is_sent(
    browser: Browser, db: Session
) -> None:
    cohort, url = invite_page(browser, db)
    pasted = "ana@example.org\nnot-an-address\nbo@@example.org"
    response = browser.submit(url, {"addresses": pasted}, page=url)
    assert response.status_code == 400
    assert "2 of these cannot be invited; nothing was sent." in response.text
    assert "<strong>not-an-address</strong>:" in response.text
    assert "<strong>bo@@example.org</strong>:" in response.text
    assert ">ana@example.org\nnot-an-address\nbo@@example.org</textarea>" in response.text
    assert invited(db, cohort) == []
    empty = browser.submit(url, {"addresses": " ,; "}, page=url)
    assert empty.status_code == 400 and "Paste at least one e-mail address." in empty.text


def test_too_many_addresses_are_refused_with_the_input_kept(
    browser: Browser, db: Session
) -> None:
    cohort, url = invite_page(browser, db)
    pasted = "\n".join(f"person{n}@example.org" for n in range(invites.MAX_PER_PASTE + 1))
    response = browser.submit(url, {"addresses": pasted}, page=url)
    assert response.status_code == 429
    assert f"paste at most {invites.MAX_PER_PASTE} at a time" in response.text
    assert "person200@example.org</textarea>" in response.text
    assert invited(db, cohort) == []


def test_joining_marks_the_invitation_and_forgets_the_address(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, url = invite_page(browser, db)
    member_browser = another_browser(browser)
    member = sign_in(member_browser, db)
    browser.submit(url, {"addresses": f"{member.email}, other@example.org"}, page=url)
    delivered(db, settings)
    join = f"/join/{cohort.invite_code}"
    joined = member_browser.submit(join, page=join)
    assert joined.status_code == 303
    rows = {row.joined_user_id: row for row in invited(db, cohort)}
    assert rows[member.id].status == InviteStatus.joined and rows[member.id].email is None
    page = browser.get(url).text
    assert "2 invited · 1 joined" in page and member.display_name in page
    repeat = browser.submit(url, {"addresses": member.email}, page=url)
    assert repeat.status_code == 303
    assert f"Already invited, so not sent again: {member.email}." in browser.get(url).text


def test_unanswered_invitations_are_forgotten_after_their_days(
    browser: Browser, db: Session
) -> None:
    cohort, url = invite_page(browser, db)
    browser.submit(url, {"addresses": "late@example.org"}, page=url)
    (row,) = invited(db, cohort)
    assert invites.forget_expired(db, days=14, moment=row.created_at) == 0
    later = row.created_at.replace(year=row.created_at.year + 1)
    assert invites.forget_expired(db, days=14, moment=later) == 1
    assert invited(db, cohort) == []


@pytest.mark.live
def test_the_real_worker_puts_the_invitations_in_the_outbox(tmp_path: Path) -> None:
    with LiveServer(fresh_database_url("sqlite", tmp_path, "telos_live_invites"),
                    tmp_path) as server:
        subprocess.run([str(TELOS), "journeys", "load"], env=server.environment(),
                       cwd=tmp_path, check=True, capture_output=True, timeout=120)
        server.telos("users", "create", "--email", "grace@example.org", "--role", "manager",
                     TELOS_NEW_USER_PASSWORD="a long enough live test password")
        with httpx.Client(base_url=server.url, follow_redirects=False) as client:
            manager = Browser(client)  # type: ignore[arg-type]
            manager.login("grace@example.org", "a long enough live test password")
            made = manager.submit("/cohorts", {"name": "Live", "journey": "purpose",
                                               "starts_on": "2026-03-01"}, page="/cohorts")
            assert made.status_code == 303, made.text
            url = made.headers["location"] + "/invitations"
            sent = manager.submit(url, {"addresses": "ana@example.org; bo@example.org"},
                                  page=url)
            assert sent.status_code == 303
            mails = wait_for_mails(server.outbox, 2)
            assert sorted(str(message_from_bytes(m)["To"]) for m in mails) == [
                "ana@example.org", "bo@example.org"]
            # The worker marks each one sent just after writing its file.
            deadline = time.monotonic() + 30
            while (manager.get(url).text.count("Sent, not joined yet") < 2
                   and time.monotonic() < deadline):
                time.sleep(0.2)
            assert manager.get(url).text.count("Sent, not joined yet") == 2


def wait_for_mails(outbox: Path, count: int, seconds: float = 60.0) -> list[bytes]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(files) >= count:
            return [path.read_bytes() for path in files]
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} e-mails reached {outbox} within {seconds:.0f} s")
