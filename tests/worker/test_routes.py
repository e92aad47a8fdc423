"""/admin/jobs: admins see jobs by status with their errors and retry a failed one; a
mail job that fails is retried, and once sent keeps no body."""

from datetime import timedelta

from sqlmodel import Session, select

from app import jobs, mail
from app.accounts.models import Role
from app.clock import now
from app.jobs.models import Job, JobStatus
from app.settings import Settings
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user
from tests.jobs import delivered, run_due_jobs


def failed_job(db: Session) -> Job:
    job = Job(name="mail.send", payload={"to": "ana@example.org", "subject": "Hello",
                                         "body": "Hi"},
              status=JobStatus.failed, attempts=8, max_attempts=8, finished_at=now(),
              error="ConnectionRefusedError: [Errno 111] Connection refused")
    db.add(job)
    db.commit()
    return job


def as_admin(browser: Browser, db: Session) -> None:
    admin = create_user(db, roles=[Role.admin])
    browser.login(admin.email, PASSWORD)


def test_admins_see_failed_jobs_with_their_error_and_retry_one(
    browser: Browser, db: Session, settings: Settings
) -> None:
    job = failed_job(db)
    as_admin(browser, db)
    listing = browser.get("/admin/jobs?status=failed")
    assert listing.status_code == 200
    assert f'href="/admin/jobs/{job.id}"' in listing.text
    assert "to ana@example.org: Hello" in listing.text and "Connection refused" in listing.text
    page = browser.get(f"/admin/jobs/{job.id}")
    assert "Retry this job" in page.text and "8 of 8" in page.text
    retried = browser.submit(f"/admin/jobs/{job.id}/retry", {}, page=f"/admin/jobs/{job.id}")
    assert retried.status_code == 303
    db.refresh(job)
    assert (job.status, job.attempts) == (JobStatus.queued, 0)
    assert run_due_jobs(db, settings) == 1
    db.refresh(job)
    assert job.status == JobStatus.done
    assert "To: ana@example.org" in delivered(db, settings)[-1].read_text()


def test_only_a_failed_job_can_be_retried(browser: Browser, db: Session) -> None:
    job = failed_job(db)
    job.status = JobStatus.done
    db.commit()
    as_admin(browser, db)
    response = browser.submit(f"/admin/jobs/{job.id}/retry", {}, page=f"/admin/jobs/{job.id}")
    assert response.status_code == 409
    assert "only a failed job can be retried" in response.text


def test_an_unknown_job_is_a_404_page(browser: Browser, db: Session) -> None:
    as_admin(browser, db)
    assert browser.get("/admin/jobs/999999").status_code == 404
    assert browser.get("/admin/jobs?status=nonsense").status_code == 200


def test_a_mail_that_smtp_refuses_is_kept_for_a_later_attempt(
    db: Session, settings: Settings
) -> None:
    mail.queue(db, [mail.Mail(to="ana@example.org", subject="Your link", body="secret link")])
    db.flush()
    refusing = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 9})
    run_due_jobs(db, refusing)
    [job] = jobs.service.listing(db, status=None)
    assert (job.status, job.attempts) == (JobStatus.queued, 1)
    assert "Connection refused" in job.error or "ConnectionRefused" in job.error
    assert now() + timedelta(seconds=20) < job.run_after < now() + timedelta(seconds=40)
    # The next attempt, once due, goes out through the outbox and keeps no body.
    job.run_after = now()
    db.commit()
    run_due_jobs(db, settings)
    db.refresh(job)
    assert (job.status, job.attempts) == (JobStatus.done, 2)
    assert job.payload["body"] == mail.SENT_BODY
    assert "secret link" in delivered(db, settings)[-1].read_text()


def test_a_message_that_cannot_be_built_fails_at_once_and_shows_on_the_jobs_page(
    browser: Browser, db: Session, settings: Settings
) -> None:
    # A name stored before line breaks were refused still names someone in a subject.
    mail.queue(db, [mail.Mail(to="mentor@example.org", subject="Peer\nX-Injected: 1 asks",
                              body="Hi")])
    db.commit()
    assert run_due_jobs(db, settings) == 1
    job = db.exec(select(Job).where(Job.name == "mail.send")).one()
    assert (job.status, job.attempts) == (JobStatus.failed, 1)
    assert job.error is not None and "cannot be built" in job.error
    assert delivered(db, settings) == []
    as_admin(browser, db)
    listing = browser.get("/admin/jobs?status=failed")
    assert f'href="/admin/jobs/{job.id}"' in listing.text and "cannot be built" in listing.text
