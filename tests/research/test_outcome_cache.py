"""The outcome report computed by a job and cached: asked for on first view, on
"Recompute now", and whenever a study's data changes; shown at once from the cache."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts import consent
from app.accounts.models import User
from app.jobs.models import Job, JobStatus
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment
from app.research import outcome_cache, service
from app.research.models import OutcomeCache, Study
from app.settings import Settings
from app.surveys import rescore, waves
from app.surveys.models import SurveyResponse, SurveyScore
from tests.browsing import csrf_token_in
from tests.factories import signed_in
from tests.jobs import run_due_jobs
from tests.research.studies import answer, make_cohort, make_member, make_study, researcher


class World:
    def __init__(self, db: Session) -> None:
        self.owner = researcher(db)
        self.cohort = make_cohort(db)
        self.members: list[tuple[User, Enrolment]] = []
        for before, after in ((2, 3), (3, 5), (3, 4), (4, 5)):
            member = make_member(db, self.cohort)
            answer(db, member[1], value=before)
            answer(db, member[1], wave=Wave.post, value=after, day=40)
            self.members.append(member)
        self.newcomer = make_member(db, self.cohort)
        self.study = make_study(db, self.owner, [self.cohort])
        db.commit()


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


@pytest.fixture
def owner_client(app: FastAPI, db: Session, settings: Settings, world: World) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    signed_in(client, db, settings, world.owner)
    return client


def outcome_jobs(db: Session, status: JobStatus = JobStatus.queued) -> list[Job]:
    return list(db.exec(select(Job).where(Job.name == "research.outcomes",
                                          Job.status == status)))


def url(study: Study) -> str:
    return f"/research/studies/{study.id}/outcomes"


def computed(db: Session, settings: Settings) -> None:
    assert run_due_jobs(db, settings) >= 1
    db.commit()


def test_the_first_view_asks_for_the_report_once_and_shows_it_when_computed(
    db: Session, settings: Settings, world: World, owner_client: TestClient
) -> None:
    first = owner_client.get(url(world.study))
    assert first.status_code == 200
    assert "The report is being computed; this page" in first.text
    assert 'hx-trigger="every 2s"' in first.text and "show the report again" in first.text
    owner_client.get(url(world.study))
    assert len(outcome_jobs(db)) == 1  # a second view while it waits asks for nothing more
    computed(db, settings)
    page = owner_client.get(url(world.study))
    assert "for the 5 participants" in page.text and "improved significantly" in page.text
    assert "Computed at " in page.text and " (UTC) on " in page.text
    assert page.text.count("<svg") == 2 and 'hx-trigger="every 2s"' not in page.text
    cache = db.get(OutcomeCache, world.study.id)
    assert cache is not None and cache.computed_version == cache.data_version
    assert cache.chart_means.startswith("<svg") and cache.report["report"]["rows"]


def test_the_cached_report_matches_a_fresh_computation(
    db: Session, settings: Settings, world: World, owner_client: TestClient
) -> None:
    from app.research.report import outcome_report

    owner_client.get(url(world.study))
    computed(db, settings)
    assert world.study.id is not None
    cached = outcome_cache.cached(db, study_id=world.study.id)
    fresh = outcome_report(db, world.study)
    assert cached is not None and cached.report == fresh.report
    assert cached.reliability == fresh.reliability and cached.participants == 5


def pre_respondents(db: Session, study: Study) -> int:
    cache = db.get(OutcomeCache, study.id)
    assert cache is not None
    db.refresh(cache)
    [pre] = [item for item in cache.report["reliability"] if item["wave"] == "pre"]
    return int(pre["n"])


def test_a_submitted_response_refreshes_the_report(
    db: Session, settings: Settings, world: World, owner_client: TestClient
) -> None:
    owner_client.get(url(world.study))
    computed(db, settings)
    assert pre_respondents(db, world.study) == 4
    _, enrolment = world.newcomer
    response = waves.open_response(db, enrolment=enrolment, wave=Wave.pre, key="happiness")
    instrument = waves.instrument_for(db, response)
    waves.save_draft(db, response=response, answers={item.id: 3 for item in instrument.items})
    waves.submit(db, response=response, instrument=instrument)
    db.commit()
    assert len(outcome_jobs(db)) == 1
    stale = owner_client.get(url(world.study))
    assert "A newer report is being computed" in stale.text
    assert "Computed at" in stale.text and 'hx-trigger="every 2s"' in stale.text
    computed(db, settings)
    fresh = owner_client.get(url(world.study))
    assert "A newer report" not in fresh.text and pre_respondents(db, world.study) == 5


def test_changes_while_a_job_waits_ask_for_one_job(
    db: Session, settings: Settings, world: World
) -> None:
    for user, _ in world.members[:2]:
        assert user.id is not None
        consent.withdraw_research(db, user_id=user.id)
    assert len(outcome_jobs(db)) == 1
    cache = db.get(OutcomeCache, world.study.id)
    assert cache is not None and cache.data_version == 2 and cache.waiting
    computed(db, settings)
    db.refresh(cache)
    assert cache.computed_version == 2 and not cache.waiting and cache.participants == 3


def test_withdrawing_consent_recomputes_without_the_member(
    db: Session, settings: Settings, world: World, owner_client: TestClient
) -> None:
    owner_client.get(url(world.study))
    computed(db, settings)
    user, _ = world.members[0]
    assert user.id is not None
    consent.withdraw_research(db, user_id=user.id)
    db.commit()
    computed(db, settings)
    assert "for the 4 participants" in owner_client.get(url(world.study)).text


def test_a_rescore_that_changes_scores_recomputes_and_one_that_does_not_asks_nothing(
    db: Session, settings: Settings, world: World
) -> None:
    rescore.rescore(db, instrument_key="happiness")
    assert outcome_jobs(db) == []
    _, enrolment = world.members[0]
    response = db.exec(select(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolment.id)).first()
    assert response is not None
    score = db.exec(select(SurveyScore).where(SurveyScore.response_id == response.id)).first()
    assert score is not None
    score.value = 99.0  # a scoring fault the rescore puts right
    db.add(score)
    db.flush()
    assert rescore.rescore(db, instrument_key="happiness").changed == 1
    assert [job.payload for job in outcome_jobs(db)] == [{"study_id": world.study.id}]


def test_studies_touched_by_a_member_or_an_instrument(db: Session, world: World) -> None:
    other = make_study(db, world.owner, [make_cohort(db)])
    user, _ = world.members[0]
    assert service.studies_touched_by(db, user_id=user.id) == [world.study.id]
    assert set(service.studies_touched_by(db, instrument_key="happiness")) == {
        world.study.id, other.id}
    assert service.studies_touched_by(db, instrument_key="not-given-anywhere") == []


def test_recompute_now_asks_for_a_new_report_and_says_so(
    db: Session, settings: Settings, world: World, owner_client: TestClient
) -> None:
    owner_client.get(url(world.study))
    computed(db, settings)
    page = owner_client.get(url(world.study))
    asked = owner_client.post(f"{url(world.study)}/recompute",
                              data={"csrf_token": csrf_token_in(page.text)})
    assert asked.status_code == 303 and asked.headers["location"] == url(world.study)
    assert len(outcome_jobs(db)) == 1
    after = owner_client.get(url(world.study))
    assert "The report is being computed again" in after.text
    assert "A newer report is being computed" in after.text
    fragment = owner_client.get(url(world.study), headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="outcome-report"')
    assert "<html" not in fragment.text
    computed(db, settings)
    done = owner_client.get(url(world.study), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' not in done.text and "for the 5 participants" in done.text


def test_another_researcher_cannot_see_or_recompute_the_report(
    app: FastAPI, db: Session, settings: Settings, world: World
) -> None:
    client = TestClient(app, follow_redirects=False)
    signed_in(client, db, settings, researcher(db))
    page = client.get("/research")
    assert client.get(url(world.study)).status_code == 404
    refused = client.post(f"{url(world.study)}/recompute",
                          data={"csrf_token": csrf_token_in(page.text)})
    assert refused.status_code == 404
    assert outcome_jobs(db) == []
