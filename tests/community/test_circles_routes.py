"""Peer circles over HTTP: a manager forms, reviews and publishes; members meet and talk."""

import re

from sqlmodel import Session, select

from app.accounts.models import Role
from app.community.circle_models import Circle, CirclePost, CircleStatus
from app.settings import Settings
from tests.browsing import Browser
from tests.community.circle_factories import (
    FORM_JOBS,
    browsers_of,
    cohort_with_members,
    formed,
    members_of,
    published,
)
from tests.jobs import delivered
from tests.journeys.walking import sign_in
from tests.matching.factories import run_jobs

HTMX = {"HX-Request": "true"}


def test_a_manager_forms_reviews_and_publishes_circles(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 8)
    sign_in(browser, db, roles=(Role.manager,))
    url = f"/cohorts/{cohort.id}/circles"
    assert "Form circles" in browser.get(url).text
    response = browser.submit(f"{url}/form", page=url)
    assert response.status_code == 303 and response.headers["location"] == url
    page = browser.get(url)
    assert "<strong>Running…</strong>" in page.text
    assert f'hx-get="{url}" hx-trigger="every 2s"' in page.text
    assert f'<a href="{url}">Refresh</a>' in page.text
    polled = browser.client.get(url, headers=HTMX)
    assert polled.text.lstrip().startswith('<div id="forming"') and "<html" not in polled.text

    assert run_jobs(db, settings, FORM_JOBS) == 1
    page = browser.get(url)
    assert "Running…" not in page.text and "Draft." in page.text
    found = list(db.exec(select(Circle).where(Circle.cohort_id == cohort.id)))
    assert len(found) == 2 and all(len(members_of(db, c)) == 4 for c in found)
    for member in members:
        assert member.display_name in page.text
    assert found[0].explanation and found[0].explanation in page.text

    first, second = sorted(found, key=lambda c: c.number)
    moved = members_of(db, first)[0]
    response = browser.submit(f"{url}/members/{moved}/move", {"circle_id": second.id}, page=url)
    assert response.status_code == 303
    assert moved in members_of(db, second)
    assert browser.submit(f"{url}/{first.id}/lock", {"locked": "yes"}, page=url
                          ).status_code == 303
    kept = members_of(db, first)
    browser.submit(f"{url}/form", page=url)
    assert run_jobs(db, settings, FORM_JOBS) == 1
    db.expire_all()
    assert "could not be formed" not in browser.get(url).text
    assert set(kept) <= set(members_of(db, db.get(Circle, first.id)))  # type: ignore[arg-type]
    others = [c for c in db.exec(select(Circle).where(Circle.cohort_id == cohort.id))
              if c.id != first.id]
    refused = browser.submit(f"{url}/members/{kept[0]}/move", {"circle_id": others[0].id},
                             page=url, follow=True)
    assert f"Circle {first.number} is locked" in refused.text
    response = browser.submit(f"{url}/publish", page=url, follow=True)
    assert "Published: 8 members told by e-mail." in response.text
    assert {c.status for c in db.exec(select(Circle).where(Circle.cohort_id == cohort.id))} \
        == {CircleStatus.published}
    mails = [path.read_text() for path in delivered(db, settings)]
    assert len(mails) == 8 and all("/circles/" in text for text in mails)
    assert "Form circles" not in browser.get(url).text


def test_impossible_circles_show_the_reason(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, _ = cohort_with_members(db, 3)
    sign_in(browser, db, roles=(Role.manager,))
    url = f"/cohorts/{cohort.id}/circles"
    browser.submit(f"{url}/form", page=url)
    assert run_jobs(db, settings, FORM_JOBS) == 1
    page = browser.get(url)
    assert "The circles could not be formed." in page.text
    assert "Publish" not in page.text


def test_members_post_and_reply_as_plain_text(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    ann, ben = browsers_of(browser, db, members[:2])
    url = f"/circles/{circle.id}"
    assert f'href="{url}"' in ann.get("/circles").text
    page = ann.get(url)
    assert page.status_code == 200
    assert all(member.display_name in page.text for member in members)
    assert "local) for 4 of the 4 of you" in page.text

    response = ann.submit(f"{url}/posts", {"body": "Hello <script>alert(1)</script> all"},
                          page=url, follow=True)
    assert "Posted." in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text
    post = db.exec(select(CirclePost)).one()
    response = ben.submit(f"{url}/posts", {"body": "Hi Ann!", "parent_id": str(post.id)},
                          page=url, follow=True)
    assert "Replied." in response.text and "Hi Ann!" in response.text
    reply = db.exec(select(CirclePost).where(CirclePost.parent_id == post.id)).one()
    assert reply.author_id == members[1].id
    assert "Hi Ann!" in ann.get(url).text


def test_bad_posts_are_refused_with_the_text_kept(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    sign_in(browser, db, members[0])
    url = f"/circles/{circle.id}"
    empty = browser.submit(f"{url}/posts", {"body": "   "}, page=url)
    assert empty.status_code == 400 and "the post was empty" in empty.text
    huge = browser.submit(f"{url}/posts", {"body": "word " * 1100}, page=url)
    assert huge.status_code == 400 and "the limit is 5,000" in huge.text
    assert "word word word" in huge.text
    assert db.exec(select(CirclePost)).first() is None

    token = browser.token(url)
    assert browser.submit(f"{url}/leave", page=url).status_code == 303
    left = browser.client.post(f"{url}/posts", data={"body": "Still here?", "csrf_token": token})
    assert left.status_code == 409
    assert "You are no longer in this circle" in left.text and "Still here?" in left.text
    assert db.exec(select(CirclePost)).first() is None
    assert browser.get(url).status_code == 404


def test_only_members_see_a_circle(browser: Browser, db: Session, settings: Settings) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    outsider = sign_in(browser, db, roles=(Role.member, Role.manager))
    assert outsider.id not in members_of(db, circle)
    page = browser.get(f"/circles/{circle.id}")
    assert page.status_code == 404
    assert members[0].display_name not in page.text
    token = browser.token("/circles")
    posted = browser.client.post(f"/circles/{circle.id}/posts",
                                 data={"body": "Let me in", "csrf_token": token})
    assert posted.status_code == 404
    assert db.exec(select(CirclePost)).first() is None


def test_a_draft_circle_is_not_shown_to_its_members(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = formed(db, settings, cohort)[0]
    sign_in(browser, db, members[0])
    assert browser.get(f"/circles/{circle.id}").status_code == 404
    assert "You are in no circle yet." in browser.get("/circles").text


def test_the_meeting_link_takes_only_web_addresses_and_checks_the_version(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    ann, ben = browsers_of(browser, db, members[:2])
    url = f"/circles/{circle.id}"
    bad = ann.submit(f"{url}/link", {"meeting_link": "javascript:alert(1)", "version": "1"},
                     page=url)
    assert bad.status_code == 400 and "starts with https://" in bad.text
    assert 'value="javascript:alert(1)"' in bad.text
    saved = ann.submit(f"{url}/link", {"meeting_link": "https://meet.example.org/circle",
                                       "version": "1"}, page=url, follow=True)
    assert "Meeting link saved." in saved.text
    assert 'href="https://meet.example.org/circle"' in saved.text
    stale = ben.submit(f"{url}/link", {"meeting_link": "https://other.example.org",
                                       "version": "1"}, page=url)
    assert stale.status_code == 409 and "changed the meeting link meanwhile" in stale.text
    db.expire_all()
    assert db.get(Circle, circle.id).meeting_link == "https://meet.example.org/circle"  # type: ignore[union-attr]


def test_a_member_mutes_and_unmutes(browser: Browser, db: Session, settings: Settings) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    sign_in(browser, db, members[0])
    url = f"/circles/{circle.id}"
    muted = browser.submit(f"{url}/mute", {"muted": "yes"}, page=url, follow=True)
    assert "Muted: no digest e-mails" in muted.text
    assert re.search(r'name="muted" value="no"', muted.text)
    unmuted = browser.submit(f"{url}/mute", {"muted": "no"}, page=url, follow=True)
    assert "Unmuted" in unmuted.text
