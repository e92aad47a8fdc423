"""The member's own before/after: plain words, the right direction, support where due."""

from datetime import timedelta

from sqlmodel import Session

from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment
from app.surveys import results, waves
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user


def send(db: Session, enrolment: Enrolment, wave: Wave, key: str, pick: int) -> None:
    """Sends one instrument answering every item with its option number `pick`."""
    response = waves.open_response(db, enrolment=enrolment, wave=wave, key=key)
    instrument = waves.instrument_for(db, response)
    waves.save_draft(db, response=response, answers={
        item.id: instrument.options_of(item)[pick].value for item in instrument.items})
    waves.submit(db, response=response, instrument=instrument)


def enrolled(db: Session, journey: str) -> tuple[str, Enrolment]:
    """A member who has reached the closing questionnaire of `journey`."""
    member = create_user(db)
    assert member.id is not None
    enrolment = journeys.enrol(db, user_id=member.id, journey_key=journey)
    # Started long enough ago for the closing questionnaire to be open.
    enrolment.started_at -= timedelta(days=journeys.journey_of(db, enrolment).waves.post_after_days)
    for step in journeys.journey_of(db, enrolment).steps()[:-1]:
        journeys.mark_done(db, enrolment=enrolment, step_id=step.id)
    return member.email, enrolment


def test_results_wait_for_the_closing_questionnaire(browser: Browser, db: Session) -> None:
    email, _enrolment = enrolled(db, "walk")
    db.commit()
    browser.login(email, PASSWORD)
    assert "once you have sent the closing questionnaire" in browser.get("/results").text


def test_results_show_before_and_after_in_plain_words(browser: Browser, db: Session) -> None:
    email, enrolment = enrolled(db, "walk")
    send(db, enrolment, Wave.pre, "happiness", 0)
    send(db, enrolment, Wave.post, "happiness", -1)
    db.commit()
    [change] = results.before_after(db, enrolment=enrolment)
    browser.login(email, PASSWORD)
    page = browser.get("/results").text
    assert f"went up, from {change.before:.1f} to {change.after:.1f}" in page
    assert "not a diagnosis" in page
    assert '<svg class="change-chart"' in page


def test_lower_is_better_scores_read_the_right_way_and_show_support(db: Session) -> None:
    _email, enrolment = enrolled(db, "purpose")
    send(db, enrolment, Wave.pre, "depressive_mood", 0)
    send(db, enrolment, Wave.post, "depressive_mood", -1)
    [change] = results.before_after(db, enrolment=enrolment)
    assert change.after > change.before
    assert not change.better
    assert change.support and "trust" in change.support
    assert change.words.startswith("went up") and "lower is better" in change.words


def test_no_support_message_outside_its_band(db: Session) -> None:
    _email, enrolment = enrolled(db, "purpose")
    send(db, enrolment, Wave.pre, "depressive_mood", -1)
    send(db, enrolment, Wave.post, "depressive_mood", 0)
    [change] = results.before_after(db, enrolment=enrolment)
    assert change.better
    assert change.support is None


def test_results_start_with_three_plain_lines_before_the_details(
        browser: Browser, db: Session) -> None:
    email, enrolment = enrolled(db, "walk")
    send(db, enrolment, Wave.pre, "happiness", 0)
    send(db, enrolment, Wave.post, "happiness", -1)
    db.commit()
    [change] = results.before_after(db, enrolment=enrolment)
    browser.login(email, PASSWORD)

    page = " ".join(browser.get("/results").text.split())

    summary, details = page.split('id="results-details"', 1)
    assert f"What improved:</strong> {change.title}." in summary
    assert "What stayed or went the other way:</strong> nothing." in summary
    assert "Where to find support:</strong> your mentor, or someone you trust" in summary
    assert '<svg class="change-chart"' not in summary
    assert '<svg class="change-chart"' in details and "went up" in details
