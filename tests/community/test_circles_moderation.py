"""Reports, hiding, removing a member (each in the audit log), and the daily digest."""

from datetime import timedelta

from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.clock import now
from app.community import circle_threads
from app.community.circle_models import CircleMembership, CirclePost, CirclePostReport
from app.jobs.service import enqueue
from app.settings import Settings
from tests.browsing import Browser
from tests.community.circle_factories import (
    browsers_of,
    cohort_with_members,
    manager,
    members_of,
    published,
)
from tests.jobs import delivered, run_due_jobs


def _post(browser: Browser, circle_id: int | None, body: str) -> None:
    url = f"/circles/{circle_id}"
    assert browser.submit(f"{url}/posts", {"body": body}, page=url).status_code == 303


def test_a_manager_sees_only_reported_posts_and_hides_one(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    ann, ben = browsers_of(browser, db, members[:2])
    _post(ann, circle.id, "A quiet thought only my circle reads.")
    _post(ben, circle.id, "Something unkind.")
    unkind = db.exec(select(CirclePost).where(CirclePost.author_id == members[1].id)).one()
    boss = manager(browser, db)
    reports = f"/cohorts/{cohort.id}/circles/reports"
    assert "No open reports." in boss.get(reports).text
    assert boss.get(f"/circles/{circle.id}").status_code == 403  # not a member at all

    url = f"/circles/{circle.id}"
    response = ann.submit(f"{url}/posts/{unkind.id}/report", {"reason": "rude"}, page=url,
                          follow=True)
    assert "Reported." in response.text
    page = boss.get(reports)
    assert "Something unkind." in page.text and "rude" in page.text
    assert "A quiet thought" not in page.text
    assert "Reported posts (1)" in boss.get(f"/cohorts/{cohort.id}/circles").text

    hidden = boss.submit(f"{reports.rsplit('/', 1)[0]}/posts/{unkind.id}/hide", page=reports,
                         follow=True)
    assert "The post is hidden" in hidden.text and "Something unkind." not in hidden.text
    page = ann.get(url)
    assert "A community manager hid this post." in page.text
    assert "Something unkind." not in page.text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "circles.post_hidden")).one()
    assert event.target_id == str(unkind.id)
    assert db.exec(select(CirclePostReport)).one().resolved_at is not None


def test_a_manager_cannot_hide_a_post_nobody_reported(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    _post(browsers_of(browser, db, members[:1])[0], circle.id, "Mine alone.")
    post = db.exec(select(CirclePost)).one()
    boss = manager(browser, db)
    response = boss.submit(f"/cohorts/{cohort.id}/circles/posts/{post.id}/hide",
                           page=f"/cohorts/{cohort.id}/circles/reports")
    assert response.status_code == 404 and "Mine alone." not in response.text
    db.expire_all()
    assert db.get(CirclePost, post.id).hidden_at is None  # type: ignore[union-attr]


def test_a_manager_removes_a_member_and_it_is_audited(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    (ann,) = browsers_of(browser, db, members[:1])
    boss = manager(browser, db)
    review = f"/cohorts/{cohort.id}/circles"
    response = boss.submit(f"{review}/{circle.id}/members/{members[0].id}/remove", page=review,
                           follow=True)
    assert f"{members[0].display_name} is no longer in the circle." in response.text
    assert members[0].id not in members_of(db, circle)
    assert ann.get(f"/circles/{circle.id}").status_code == 404
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "circles.member_removed")).one()
    assert event.target_id == str(members[0].id)


def _yesterday(db: Session) -> None:
    """Everything posted, joined and sent so far moves a day back."""
    day = timedelta(days=1)
    for post in db.exec(select(CirclePost)):
        post.created_at -= day
        db.add(post)
    for membership in db.exec(select(CircleMembership)):
        membership.joined_at -= day
        if membership.digest_sent_at:
            membership.digest_sent_at -= day
        db.add(membership)
    db.commit()


def _digests(db: Session, settings: Settings) -> list[str]:
    mails = circle_threads.send_digests(db, base_url=settings.base_url, moment=now())
    db.commit()
    return [mail.to for mail in mails]


def test_the_digest_goes_once_a_day_to_unmuted_members_with_news(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    delivered(db, settings)  # the published-circle mails
    ann, ben = browsers_of(browser, db, members[:2])
    url = f"/circles/{circle.id}"
    assert ben.submit(f"{url}/mute", {"muted": "yes"}, page=url).status_code == 303
    _post(ann, circle.id, "News from Ann.")
    _yesterday(db)

    sent = _digests(db, settings)
    assert sorted(sent) == sorted(m.email for m in members[2:])  # not Ann's own, not muted Ben
    assert _digests(db, settings) == []  # once a day

    _post(ann, circle.id, "More news.")
    assert _digests(db, settings) == []  # still today
    _yesterday(db)
    assert sorted(_digests(db, settings)) == sorted(m.email for m in members[2:])
    _yesterday(db)
    assert _digests(db, settings) == []  # nothing new since


def test_the_digest_job_sends_the_mails(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    before = len(delivered(db, settings))
    _post(browsers_of(browser, db, members[:1])[0], circle.id, "Hello circle.")
    _yesterday(db)
    enqueue(db, "circles.digest")
    db.commit()
    run_due_jobs(db, settings)  # the digest job, which asks for the mails
    mails = [path.read_text() for path in delivered(db, settings)][before:]
    assert len(mails) == 3
    assert all("Person" in text or members[0].display_name in text for text in mails)
    assert all("Hello circle." not in text for text in mails)  # the text stays in the circle
