"""The one-click opt-out from a reminder e-mail, signed out; the hourly tasks themselves;
the follow-up of an earlier journey reached from the e-mail and the home page."""

import re
from datetime import UTC, timedelta

from sqlmodel import Session, select

from app import jobs
from app.accounts.models import User
from app.clock import now
from app.journeys import service as journeys
from app.reminders import service
from app.security import dump_signed
from app.settings import Settings
from app.surveys.models import ResponseStatus, SurveyResponse
from tests.browsing import Browser
from tests.jobs import run_due_jobs
from tests.journeys.walking import sign_in
from tests.reminders.helpers import T0, WALK_FOLLOWUP_DAYS, completed_walk, mails, member

OPTED_OUT = "Reminder e-mails are off"


def opt_out_path(settings: Settings, user: User) -> str:
    assert user.id is not None
    return f"/reminders/off/{service.opt_out_token(settings, user_id=user.id)}"


def test_the_link_in_a_reminder_turns_reminders_off_without_signing_in(
    browser: Browser, db: Session, settings: Settings
) -> None:
    user = member(db)
    completed_walk(db, user, at=T0 - timedelta(days=WALK_FOLLOWUP_DAYS))
    service.send_followups(db, settings=settings, moment=T0)
    db.commit()
    [mail] = mails(db, settings)
    link = re.search(r"http://testserver(/reminders/off/\S+)", mail.body)
    assert link
    path = link.group(1)

    page = browser.get(path)
    assert page.status_code == 200 and "Turn reminder e-mails off" in page.text
    db.refresh(user)
    assert user.reminders, "opening the link (as a mail scanner does) changes nothing"

    done = browser.submit(path, page=path)
    assert done.status_code == 303 and done.headers["location"] == path
    db.refresh(user)
    assert not user.reminders
    after = browser.get(path)
    assert OPTED_OUT in after.text and "Telos sends you no more reminder e-mails" in after.text
    assert 'href="/profile"' in after.text and "turn them back on" in after.text


def test_a_changed_link_is_refused_with_a_clear_page(
    browser: Browser, db: Session, settings: Settings
) -> None:
    user = member(db)
    path = opt_out_path(settings, user)
    body, _, signature = path.rpartition(".")
    tampered = [f"{body}.{'0' * len(signature)}", path[:-3],
                "/reminders/off/" + dump_signed(settings.signing_key, "session", {
                    "user": user.id, "purpose": "reminders-off"})]
    for bad in tampered:
        page = browser.get(bad)
        assert page.status_code == 400, bad
        assert "This link does not work" in page.text and "Nothing was changed" in page.text
        assert browser.submit(bad, page=path).status_code == 400
    db.refresh(user)
    assert user.reminders


def test_the_opt_out_form_needs_its_csrf_token(
    browser: Browser, db: Session, settings: Settings
) -> None:
    user = member(db)
    path = opt_out_path(settings, user)
    browser.get(path)
    assert browser.client.post(path, data={}).status_code == 403
    db.refresh(user)
    assert user.reminders


def _local_noon_zone() -> str:
    """A time zone where it is about noon now, so the real clock is in the daytime."""
    offset = 12 - now().astimezone(UTC).hour
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def test_the_hourly_task_sends_the_invitation_that_is_due(
    db: Session, settings: Settings
) -> None:
    user = member(db, time_zone=_local_noon_zone())
    completed_walk(db, user, at=now() - timedelta(days=WALK_FOLLOWUP_DAYS, hours=1))
    jobs.enqueue(db, "reminders.followups")
    db.commit()
    run_due_jobs(db, settings)
    jobs.enqueue(db, "reminders.followups", key="second run")
    db.commit()
    run_due_jobs(db, settings)
    [mail] = mails(db, settings)
    assert mail.to == user.email and "follow-up questionnaire" in mail.subject


def test_the_hourly_nudge_task_nudges_a_stalled_member(
    db: Session, settings: Settings
) -> None:
    user = member(db, time_zone=_local_noon_zone())
    assert user.id is not None
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="walk")
    enrolment.last_activity_at = now() - timedelta(days=settings.nudge_after_days, hours=1)
    db.add(enrolment)
    jobs.enqueue(db, "reminders.nudges")
    db.commit()
    run_due_jobs(db, settings)
    [mail] = mails(db, settings)
    assert "You stopped at “Check-in”" in mail.body


def test_the_followup_of_an_earlier_journey_stays_reachable(
    browser: Browser, db: Session
) -> None:
    user = sign_in(browser, db)
    assert user.id is not None
    earlier = completed_walk(db, user, at=now() - timedelta(days=WALK_FOLLOWUP_DAYS + 1))
    journeys.enrol(db, user_id=user.id, journey_key="purpose")
    db.commit()

    home = browser.get("/home")
    assert 'href="/surveys/followup"' in home.text
    assert "Take the follow-up questionnaire" in home.text
    assert browser.get("/surveys/followup").status_code == 200
    assert browser.get("/surveys/followup/happiness").status_code == 200
    items = re.findall(r'name="(item-[\w-]+)"', browser.get("/surveys/followup/happiness").text)
    sent = browser.submit("/surveys/followup/happiness",
                          {**dict.fromkeys(items, "5"), "action": "send"},
                          page="/surveys/followup/happiness")
    assert sent.status_code == 303
    [response] = db.exec(select(SurveyResponse).where(SurveyResponse.user_id == user.id)).all()
    assert (response.enrolment_id, response.wave, response.status) == (
        earlier.id, "followup", ResponseStatus.submitted)
    assert "Take the follow-up questionnaire" not in browser.get("/home").text
