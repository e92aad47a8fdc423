"""A study's arms: set on the study page (audited, stale choices refused), and the outcome
job's mixed model then compares the arms; without them the report says it is one group."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.community.models import Cohort
from app.journeys.definitions import Wave
from app.research import outcome_cache
from app.research.arms import cohort_arms
from app.research.mixed import COMPARISON, INTERVENTION
from app.research.models import Study
from app.research.report import outcome_report
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.factories import signed_in
from tests.jobs import run_due_jobs
from tests.research.studies import answer, make_cohort, make_member, make_study, researcher

# Raw answers (1-5) before and after, per member: the intervention arm gains more.
GAINS = {"treated": ((2, 4), (3, 5), (2, 5), (3, 4), (1, 3)),
         "waiting": ((2, 2), (3, 3), (2, 3), (3, 3), (4, 4))}


class World:
    def __init__(self, db: Session) -> None:
        self.owner = researcher(db)
        self.cohorts: dict[str, Cohort] = {name: make_cohort(db) for name in GAINS}
        for name, pairs in GAINS.items():
            for before, after in pairs:
                _, enrolment = make_member(db, self.cohorts[name])
                answer(db, enrolment, value=before)
                answer(db, enrolment, wave=Wave.post, value=after, day=40)
        _, dropout = make_member(db, self.cohorts["treated"])
        answer(db, dropout, value=1)
        self.study = make_study(db, self.owner, list(self.cohorts.values()))
        db.commit()


@pytest.fixture
def world(db: Session) -> World:
    return World(db)


def client_of(app: FastAPI, db: Session, settings: Settings, user: User) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    signed_in(client, db, settings, user)
    return client


def set_arm(client: TestClient, study: Study, cohort: Cohort, arm: str, was: str = "") -> str:
    token = csrf_token_in(client.get(f"/research/studies/{study.id}").text)
    response = client.post(f"/research/studies/{study.id}/cohorts/{cohort.id}/arm",
                           data={"csrf_token": token, "arm": arm, "was": was})
    return f"{response.status_code} {response.text}"


def outcomes_page(client: TestClient, db: Session, settings: Settings, study: Study) -> str:
    client.get(f"/research/studies/{study.id}/outcomes")
    run_due_jobs(db, settings)
    db.commit()
    return client.get(f"/research/studies/{study.id}/outcomes").text


def test_without_arms_the_report_says_it_is_one_group(
    app: FastAPI, db: Session, settings: Settings, world: World
) -> None:
    client = client_of(app, db, settings, world.owner)
    page = outcomes_page(client, db, settings, world.study)
    assert "Single-group design" in page and "cannot be attributed to the journey alone" in page
    assert "intention-to-treat analysis" in page and "completers' analysis" in page
    assert "Intervention against comparison" not in page
    assert "Participants in the model" in page
    assert "Sensitivity: completers against everyone" in page


def test_marking_both_arms_compares_them(
    app: FastAPI, db: Session, settings: Settings, world: World
) -> None:
    client = client_of(app, db, settings, world.owner)
    study_page = client.get(f"/research/studies/{world.study.id}").text
    assert 'for="arm-' in study_page and "Comparison (wait-list) arm" in study_page
    assert set_arm(client, world.study, world.cohorts["treated"], INTERVENTION).startswith("303")
    assert set_arm(client, world.study, world.cohorts["waiting"], COMPARISON).startswith("303")
    db.expire_all()
    assert cohort_arms(db, world.study) == {world.cohorts["treated"].id: INTERVENTION,
                                           world.cohorts["waiting"].id: COMPARISON}
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "study.arm_set")).all()
    assert [(e.actor_id, e.details["arm"]) for e in events] == [
        (world.owner.id, INTERVENTION), (world.owner.id, COMPARISON)]
    page = outcomes_page(client, db, settings, world.study)
    assert "Two-arm design" in page and "Intervention against comparison" in page
    assert "Interaction χ² (df)" in page and "comparison (wait-list)" in page
    assert world.study.id is not None
    cached = outcome_cache.cached(db, study_id=world.study.id)
    assert cached is not None and cached.waves is not None
    assert cached.waves == outcome_report(db, world.study).waves
    [model] = cached.waves.models
    assert model.participants == 11 and model.observations == 21
    [difference] = model.differences
    assert difference.difference.value is not None and difference.difference.value > 0
    assert difference.g is not None and difference.g > 0


def test_a_choice_made_from_a_stale_page_is_refused(
    app: FastAPI, db: Session, settings: Settings, world: World
) -> None:
    client = client_of(app, db, settings, world.owner)
    treated = world.cohorts["treated"]
    assert set_arm(client, world.study, treated, INTERVENTION).startswith("303")
    answer_ = set_arm(client, world.study, treated, COMPARISON, was="")
    assert answer_.startswith("400") and "meanwhile" in answer_
    assert 'aria-invalid="true"' in answer_
    db.expire_all()
    assert cohort_arms(db, world.study)[treated.id] == INTERVENTION  # type: ignore[index]


def test_an_unknown_arm_is_refused_and_nothing_saved(
    app: FastAPI, db: Session, settings: Settings, world: World
) -> None:
    client = client_of(app, db, settings, world.owner)
    answer_ = set_arm(client, world.study, world.cohorts["treated"], "placebo")
    assert answer_.startswith("400") and "Not saved: choose one of" in answer_
    db.expire_all()
    assert set(cohort_arms(db, world.study).values()) == {""}
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "study.arm_set")).all() == []


def test_a_researcher_not_on_the_study_cannot_set_an_arm(
    app: FastAPI, db: Session, settings: Settings, world: World
) -> None:
    stranger = researcher(db)
    db.commit()
    client = client_of(app, db, settings, stranger)
    token = csrf_token_in(client.get("/research").text)
    response = client.post(
        f"/research/studies/{world.study.id}/cohorts/{world.cohorts['treated'].id}/arm",
        data={"csrf_token": token, "arm": INTERVENTION, "was": ""})
    assert response.status_code == 404
    db.expire_all()
    assert set(cohort_arms(db, world.study).values()) == {""}
