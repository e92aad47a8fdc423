"""Batteries: the default journey asks a short core set, a study chooses its own, and a
member can stop part-way and come back to where they were."""

import re

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.research.models import Study
from app.settings import Settings
from tests.browsing import Browser, csrf_token_in
from tests.factories import signed_in
from tests.journeys.walking import sign_in, start
from tests.research.studies import make_cohort, make_member, make_study, researcher

CORE = ["presence_of_meaning", "purpose_clarity", "happiness", "loneliness", "resilience",
        "depressive_mood"]


def send_all(browser: Browser, url: str, *, action: str = "send",
             only: int | None = None) -> httpx.Response:
    """Answers every item on the page (or the first `only` of them) with its first option."""
    page = browser.get(url).text
    items = list(dict.fromkeys(re.findall(r'name="item-([a-z0-9_]+)"', page)))[:only]
    return browser.submit(url, {**{f"item-{item}": "1" for item in items}, "action": action},
                          page=url)


def listed(overview: str) -> list[str]:
    return re.findall(r"<li>([^<]+) · <span", overview)


def test_the_default_journey_asks_its_core_battery_and_says_how_long_it_takes(
    browser: Browser, db: Session
) -> None:
    start(browser, db, journey="purpose")
    overview = browser.get("/surveys/pre").text
    assert listed(overview) == ["Meaning in your life", "Clarity of purpose",
                                "Everyday happiness", "Feeling alone",
                                "Getting through hard times", "Mood"]
    assert "6 short questionnaires, about 6 minutes in all" in overview
    page = browser.get(f"/surveys/pre/{CORE[0]}").text
    assert '<p id="wave-progress">Questionnaire 1 of 6 · about 6 minutes left</p>' in page
    assert '<progress value="0" max="6" aria-labelledby="wave-progress"' in page
    assert ">Continue later</button>" in page


def test_stopping_part_way_keeps_the_answers_and_home_leads_back(
    browser: Browser, db: Session
) -> None:
    start(browser, db, journey="purpose")
    for key in CORE[:2]:
        assert send_all(browser, f"/surveys/pre/{key}").status_code == 303
    third = f"/surveys/pre/{CORE[2]}"
    later = send_all(browser, third, action="save", only=2)
    assert (later.status_code, later.headers["location"]) == (303, "/home")

    home = browser.get("/home").text
    assert "Your answers are saved." in home
    assert (f'<a href="{third}" class="button">Continue your check-in (questionnaire 3 of 6)'
            "</a>") in home
    back = browser.get(third).text
    assert len(re.findall(r'value="1" checked', back)) == 2
    # 4 questionnaires of 4, 4, 5 and 4 items left: 4 x 15 s + 17 x 10 s = 230 s.
    assert "Questionnaire 3 of 6 · about 4 minutes left" in back
    assert "2 of 6 questionnaires sent." in back


def change(client: TestClient, study: Study, token: str, **waves: str) -> httpx.Response:
    return client.post(f"/research/studies/{study.id}/battery", data={
        "csrf_token": token, "version": str(study.version), "pre": "", "post": "",
        "followup": "", **waves})


def test_a_study_gives_its_own_battery_to_members_who_agreed_to_research(
    db: Session, settings: Settings, browser: Browser
) -> None:
    cohort = make_cohort(db, journey="purpose")
    owner = researcher(db)
    study = make_study(db, owner, [cohort])
    taking_part, _ = make_member(db, cohort, research=True)
    not_taking_part, _ = make_member(db, cohort, research=False)
    db.commit()
    assert study.battery["pre"] == CORE  # a new study starts from the journey's battery

    client = TestClient(browser.client.app, follow_redirects=False)
    signed_in(client, db, settings, owner)
    token = csrf_token_in(client.get(f"/research/studies/{study.id}").text)
    response = change(client, study, token, pre="hope\nhappiness\n", post="hope")
    assert response.status_code == 303
    db.refresh(study)
    assert study.battery == {"pre": ["hope", "happiness"], "post": ["hope"], "followup": []}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "study.battery_changed")
                    .order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and event.actor_id == owner.id
    page = client.get(f"/research/studies/{study.id}").text
    # Hope (6 items) and happiness (4): 2 x 15 s + 10 x 10 s = 130 s.
    assert "Before the journey <small>(about 3 minutes)</small>" in page

    sign_in(browser, db, taking_part)
    assert listed(browser.get("/surveys/pre").text) == ["Hope", "Everyday happiness"]
    sign_in(browser, db, not_taking_part)
    assert len(listed(browser.get("/surveys/pre").text)) == len(CORE)


def test_an_unknown_questionnaire_is_named_and_the_input_kept(
    client: TestClient, db: Session, settings: Settings
) -> None:
    cohort = make_cohort(db, journey="purpose")
    owner = researcher(db)
    study = make_study(db, owner, [cohort])
    db.commit()
    signed_in(client, db, settings, owner)
    page = client.get(f"/research/studies/{study.id}").text
    token = csrf_token_in(page)
    core = "\n".join(CORE)
    assert f'name="pre" rows="6">{core}</textarea>' in page
    before = dict(study.battery)

    response = change(client, study, token, pre="hope\nhapiness")
    assert response.status_code == 400
    assert ('<small id="battery-pre-message" class="field-error">No questionnaire is called '
            "“hapiness”.") in response.text
    assert ">hope\nhapiness</textarea>" in response.text
    assert "<details open>" in response.text
    db.refresh(study)
    assert study.battery == before

    empty = change(client, study, token)
    assert empty.status_code == 400 and "Give at least one questionnaire." in empty.text


def test_a_change_from_an_outdated_page_is_refused_not_overwritten(
    client: TestClient, db: Session, settings: Settings
) -> None:
    cohort = make_cohort(db, journey="purpose")
    owner = researcher(db)
    study = make_study(db, owner, [cohort])
    db.commit()
    signed_in(client, db, settings, owner)
    token = csrf_token_in(client.get(f"/research/studies/{study.id}").text)
    outdated = study.version
    assert change(client, study, token, pre="hope").status_code == 303
    response = client.post(f"/research/studies/{study.id}/battery", data={
        "csrf_token": token, "version": str(outdated), "pre": "happiness"})
    assert response.status_code == 409
    assert "Someone changed this study since you opened the page" in response.text
    db.refresh(study)
    assert study.battery["pre"] == ["hope"]
