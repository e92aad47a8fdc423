"""The researcher's home page shows their studies and their latest exports; nobody else's
home shows research."""

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.accounts.models import Role
from app.journeys.definitions import Wave
from app.settings import Settings
from tests.factories import create_user
from tests.jobs import run_due_jobs
from tests.research.studies import answer, make_cohort, make_member, make_study, researcher
from tests.research.test_export_files import ask, signed_in_client


def test_the_researcher_home_lists_their_studies_and_latest_exports(
    app: FastAPI, db: Session, settings: Settings
) -> None:
    owner, colleague = researcher(db), researcher(db)
    cohort = make_cohort(db)
    _, enrolment = make_member(db, cohort)
    answer(db, enrolment, value=3)
    answer(db, enrolment, wave=Wave.post, value=4, day=30)
    study = make_study(db, owner, [cohort])
    theirs = make_study(db, colleague, [cohort])
    theirs.title = "Colleague study"
    db.add(theirs)
    db.commit()
    client, token = signed_in_client(app, db, settings, owner)

    home = client.get("/home").text
    assert 'id="research-heading">Research</h2>' in home
    assert f'<a href="/research/studies/{study.id}">Pilot study</a>' in home
    assert "Colleague study" not in home
    assert "No exports yet." in home

    ask(client, token, study)
    assert "waiting to be built" in client.get("/home").text
    run_due_jobs(db, settings)
    home = client.get("/home").text
    assert f'href="/research/studies/{study.id}/exports/' in home and ": ready" in home
    assert study.slug in home  # the file's name

    other, _ = signed_in_client(app, db, settings, colleague)
    assert f'href="/research/studies/{study.id}/exports/' not in other.get("/home").text


def test_a_researcher_on_no_study_is_told_how_to_start(
    app: FastAPI, db: Session, settings: Settings
) -> None:
    client, _ = signed_in_client(app, db, settings, researcher(db))
    home = client.get("/home").text
    assert 'href="/research/studies/new">Create one</a>' in home


@pytest.mark.parametrize("role", [role for role in Role if role != Role.researcher])
def test_no_other_role_sees_research_on_their_home(
    app: FastAPI, db: Session, settings: Settings, role: Role
) -> None:
    owner = researcher(db)
    make_study(db, owner, [make_cohort(db)])
    db.commit()
    client, _ = signed_in_client(app, db, settings, create_user(db, roles=[role]))
    home = client.get("/home")
    assert home.status_code == 200
    assert "research-heading" not in home.text and "Pilot study" not in home.text
