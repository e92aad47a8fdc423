"""The wave runner: one instrument per page, saved per page, sent once, scored on sending."""

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from app.clock import now
from app.journeys.models import Enrolment
from app.surveys import waves
from app.surveys.definitions import Instrument, load_battery
from app.surveys.models import ResponseStatus, SurveyResponse, SurveyScore
from app.surveys.scoring import score
from tests.browsing import Browser
from tests.journeys.walking import answer_wave, save_step, start, walk_to

HAPPINESS = "/surveys/pre/happiness"
ITEMS = ("cheerful", "enjoyment", "good_moods", "hard_to_feel_glad")


def send(browser: Browser, url: str, answers: dict[str, str], action: str = "send"
         ) -> httpx.Response:
    data = {f"item-{item}": value for item, value in answers.items()}
    return browser.submit(url, {**data, "action": action}, page=url)


def response_of(db: Session, enrolment: Enrolment, wave: str = "pre",
                key: str = "happiness") -> SurveyResponse:
    db.expire_all()
    return db.exec(select(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolment.id, SurveyResponse.wave == wave,
        SurveyResponse.instrument_key == key)).one()


def checked(html: str) -> dict[str, str]:
    """Each item's checked radio value on the page."""
    return dict(re.findall(r'name="item-([a-z_]+)" value="([^"]+)" checked', html))


def test_wave_page_lists_its_instruments_and_starts_the_first(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    page = browser.get("/surveys/pre")
    assert page.status_code == 200
    assert "Before you begin: questionnaire" in page.text
    assert "0 of 1 questionnaires sent." in page.text
    assert "Everyday happiness · <span class=\"badge\">not started</span>" in page.text
    assert f'href="{HAPPINESS}" class="button">Start the questionnaire' in page.text
    instrument = browser.get(HAPPINESS)
    assert instrument.status_code == 200
    assert "Questionnaire 1 of 1" in instrument.text
    assert all(f'name="item-{item}"' in instrument.text for item in ITEMS)
    assert "Prefer not to answer" in instrument.text


def test_sending_with_an_unanswered_item_marks_it_and_keeps_the_other_answers(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    response = send(browser, HAPPINESS, {"cheerful": "4", "enjoyment": "5", "good_moods": "2"})
    assert response.status_code == 400
    assert "Some questions need an answer" in response.text
    assert ('<p id="item-hard_to_feel_glad-message" class="field-error">Please answer this '
            "question, or choose “Prefer not to answer”.</p>") in response.text
    assert 'id="item-cheerful-message"' not in response.text
    assert checked(response.text) == {"cheerful": "4", "enjoyment": "5", "good_moods": "2"}
    draft = response_of(db, enrolment)
    assert draft.status == ResponseStatus.draft
    assert draft.answers == {"cheerful": 4, "enjoyment": 5, "good_moods": 2}


def test_an_answer_not_offered_is_refused_and_nothing_is_saved(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    send(browser, HAPPINESS, {"cheerful": "3"}, action="save")
    response = send(browser, HAPPINESS, {"cheerful": "9", "enjoyment": "5"})
    assert response.status_code == 400
    assert '<p id="item-cheerful-message" class="field-error">Choose one of the answers' \
        in response.text
    assert response_of(db, enrolment).answers == {"cheerful": 3}


def test_prefer_not_to_answer_counts_as_an_answer_and_is_missing_for_the_score(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    response = send(browser, HAPPINESS, {"cheerful": "4", "enjoyment": "4", "good_moods": "5",
                                         "hard_to_feel_glad": waves.DECLINED})
    assert response.status_code == 303
    sent = response_of(db, enrolment)
    assert sent.status == ResponseStatus.submitted
    assert sent.answers["hard_to_feel_glad"] == waves.DECLINED
    stored = db.exec(select(SurveyScore).where(SurveyScore.response_id == sent.id)).one()
    assert stored.value is not None and abs(stored.value - 13 / 3) < 1e-9
    page = browser.get(HAPPINESS).text
    assert 'id="item-hard_to_feel_glad-declined" name="item-hard_to_feel_glad" ' \
        'value="declined" checked' in page


def test_answers_saved_in_the_middle_are_there_on_return(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    response = send(browser, HAPPINESS, {"cheerful": "2", "good_moods": "3"}, action="save")
    assert response.status_code == 303
    assert response.headers["location"] == "/home"
    assert "Your answers are saved" in browser.get("/home").text
    overview = browser.get("/surveys/pre").text
    assert "<span class=\"badge\">in progress</span>" in overview
    assert "Continue the questionnaire" not in overview  # none sent yet
    assert checked(browser.get(HAPPINESS).text) == {"cheerful": "2", "good_moods": "3"}

    finished = send(browser, HAPPINESS, {"enjoyment": "4", "hard_to_feel_glad": "1"})
    assert finished.status_code == 303
    assert finished.headers["location"] == "/journey/steps/baseline"
    assert response_of(db, enrolment).answers == {
        "cheerful": 2, "good_moods": 3, "enjoyment": 4, "hard_to_feel_glad": 1}


def test_a_sent_questionnaire_cannot_be_changed(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    send(browser, HAPPINESS, dict.fromkeys(ITEMS, "4"))
    before = response_of(db, enrolment)
    page = browser.get(HAPPINESS).text
    assert "You sent this questionnaire on" in page and 'value="send"' not in page
    for action in ("save", "send"):
        response = send(browser, HAPPINESS, dict.fromkeys(ITEMS, "1"), action=action)
        assert response.status_code == 409
        assert "You already sent this questionnaire" in response.text
    after = response_of(db, enrolment)
    assert after.answers == dict.fromkeys(ITEMS, 4)
    assert after.submitted_at == before.submitted_at


def test_sending_stores_the_scores_the_scoring_module_computes(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    given = {"cheerful": "5", "enjoyment": "4", "good_moods": "2", "hard_to_feel_glad": "2"}
    send(browser, HAPPINESS, given)
    sent = response_of(db, enrolment)
    instrument: Instrument = load_battery()["happiness"]
    expected = score(instrument, {item: float(value) for item, value in given.items()})
    stored = {row.name: row for row in db.exec(
        select(SurveyScore).where(SurveyScore.response_id == sent.id))}
    assert {name: row.value for name, row in stored.items()} == expected
    assert expected["happiness"] == 3.75  # (5 + 4 + 2 + (6 - 2)) / 4: the last is reversed
    assert stored["happiness"].band == "High"


def test_the_journey_step_shows_the_wave_and_after_sending_it_continues(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    step = browser.get("/journey/steps/baseline").text
    assert "0 of 1 questionnaires sent." in step
    assert f'href="{HAPPINESS}"' in step
    answer_wave(browser, "pre")
    step = browser.get("/journey/steps/baseline").text
    assert "1 of 1 questionnaires sent." in step and "All sent. Thank you." in step


def test_sending_the_whole_wave_does_its_step_and_opens_the_next(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    assert browser.get("/journey/steps/welcome").status_code == 409
    answer_wave(browser, "pre")
    tasks = browser.get("/journey").text
    assert re.search(r'steps/baseline">Check-in</a>\s*<span class="badge status-done">', tasks)
    assert "1 of 13 steps done" in tasks
    assert browser.get("/journey/steps/welcome").status_code == 200


def test_sending_the_post_wave_at_the_last_step_completes_the_journey(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser, "closing")
    response = send(browser, "/surveys/post/happiness", dict.fromkeys(ITEMS, "4"))
    assert response.status_code == 303
    assert response.headers["location"] == "/purpose"
    db.refresh(enrolment)
    assert enrolment.status == "completed"
    assert "You have walked the whole journey" in browser.get("/purpose").text


def test_each_instrument_leads_to_the_next_one_in_the_wave(browser: Browser, db: Session) -> None:
    start(browser, db, journey="purpose")
    overview = browser.get("/surveys/pre").text
    first, second = re.findall(r"<li>([^<]+) · <span", overview)[:2]
    url = re.search(r'href="(/surveys/pre/[a-z_]+)" class="button"', overview)
    assert url is not None
    page = browser.get(url.group(1)).text
    items = set(re.findall(r'name="(item-[a-z0-9_]+)"', page))
    value = re.search(r'name="item-[a-z0-9_]+" value="([^"]+)"', page)
    assert value is not None
    response = browser.submit(url.group(1), {**dict.fromkeys(items, value.group(1)),
                                             "action": "send"}, page=url.group(1))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/surveys/pre/")
    following = browser.get(response.headers["location"]).text
    assert "Questionnaire 2 of 6" in following and f"<h1>{second}</h1>" in following
    assert "1 of 6 questionnaires sent" in browser.get("/surveys/pre").text
    assert first != second


def test_the_post_wave_does_not_open_before_its_step(browser: Browser, db: Session) -> None:
    enrolment = start(browser, db)
    answer_wave(browser, "pre")
    save_step(browser, "baseline")
    response = browser.get("/surveys/post/happiness")
    assert response.status_code == 409
    assert "opens when you reach it in your journey" in response.text
    assert 'href="/surveys/post/happiness"' not in browser.get("/surveys/post").text
    sent = send(browser, "/surveys/post/happiness", dict.fromkeys(ITEMS, "3"))
    assert sent.status_code == 409
    db.expire_all()
    assert db.exec(select(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolment.id, SurveyResponse.wave == "post")).first() is None

    walk_to(browser, "closing")
    assert browser.get("/surveys/post/happiness").status_code == 200


def test_the_followup_wave_opens_only_after_the_journey(browser: Browser, db: Session) -> None:
    start(browser, db)
    overview = browser.get("/surveys/followup")
    assert overview.status_code == 200
    assert "This questionnaire opens after the journey." in overview.text
    response = browser.get("/surveys/followup/happiness")
    assert response.status_code == 409
    assert "opens later" in response.text


def test_the_followup_wave_opens_the_given_days_after_the_journey(
    browser: Browser, db: Session
) -> None:
    enrolment = start(browser, db)
    walk_to(browser)
    db.refresh(enrolment)
    assert enrolment.completed_at is not None
    opens = (enrolment.completed_at + timedelta(days=30)).date()
    assert f"This questionnaire opens on {opens.isoformat()}." in browser.get(
        "/surveys/followup").text
    assert browser.get("/surveys/followup/happiness").status_code == 409

    enrolment.completed_at = now() - timedelta(days=30)
    db.add(enrolment)
    db.commit()
    assert browser.get("/surveys/followup/happiness").status_code == 200
    response = send(browser, "/surveys/followup/happiness", dict.fromkeys(ITEMS, "5"))
    assert response.headers["location"] == "/journey"
    assert response_of(db, enrolment, "followup").status == ResponseStatus.submitted


def test_unknown_waves_and_instruments_are_not_found(browser: Browser, db: Session) -> None:
    start(browser, db)
    assert browser.get("/surveys/during").status_code == 404
    assert browser.get("/surveys/pre/anxiety").status_code == 404
    assert browser.get("/surveys/pre/nothing-like-it").status_code == 404


def test_surveys_need_a_journey(browser: Browser, db: Session) -> None:
    from tests.journeys.walking import sign_in

    sign_in(browser, db)
    assert browser.get("/surveys/pre").status_code == 404


def test_an_optional_item_is_not_required_to_send() -> None:
    instrument = Instrument.model_validate({
        "id": "test", "title": "Test", "construct": "testing", "version": "1",
        "allow_missing": False,
        "items": [
            {"id": "a", "text": "A sentence.", "options": [{"value": 1, "label": "No"},
                                                          {"value": 2, "label": "Yes"}]},
            {"id": "b", "text": "Another.", "required": False,
             "options": [{"value": 1, "label": "No"}, {"value": 2, "label": "Yes"}]},
        ],
        "metadata": {"licence": "CC0", "validated": False},
    })
    assert waves.unanswered(instrument, {"a": 2}) == {}
    assert waves.unanswered(instrument, {"b": 2}) == {"a": "Please answer this question."}


def test_the_closing_wave_opens_when_the_journey_says_on_a_frozen_clock(
    browser: Browser, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.journeys import service as journeys

    enrolment = start(browser, db, journey="purpose")
    journey = journeys.journey_of(db, enrolment)
    assert journey.waves.post_after_days == 28
    for step in journey.steps()[:-1]:
        journeys.mark_done(db, enrolment=enrolment, step_id=step.id)
    db.commit()
    opens = enrolment.started_at + timedelta(days=28)
    monkeypatch.setattr("app.surveys.waves.now", lambda: opens - timedelta(minutes=1))

    step = browser.get("/journey/steps/closing_survey").text
    assert f"This questionnaire opens on {opens.date().isoformat()}." in step
    assert 'href="/surveys/post/' not in step
    refused = browser.get("/surveys/post/happiness")
    assert refused.status_code == 409
    assert f"This questionnaire opens on {opens.date().isoformat()}." in refused.text
    home = browser.get("/home").text
    assert f"It opens on {opens.date().isoformat()}" in home

    monkeypatch.setattr("app.surveys.waves.now", lambda: opens + timedelta(minutes=1))
    first = journey.waves.post[0]  # the core battery's first questionnaire
    assert f'href="/surveys/post/{first}"' in browser.get("/journey/steps/closing_survey").text
    assert browser.get(f"/surveys/post/{first}").status_code == 200
    assert "It opens on" not in browser.get("/home").text
