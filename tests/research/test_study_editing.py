"""Editing a study after it is created, and taking researchers off it."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.community.models import Cohort
from app.db import is_busy, make_engine, session_scope
from app.errors import StaleEdit
from app.research import service
from app.research.models import Study, StudyCohort, StudyResearcher
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.factories import signed_in
from tests.research.studies import make_cohort, make_study, researcher


@pytest.fixture
def owner(db: Session) -> User:
    return researcher(db)


@pytest.fixture
def cohorts(db: Session) -> list[Cohort]:
    return [make_cohort(db), make_cohort(db)]


@pytest.fixture
def study(db: Session, owner: User, cohorts: list[Cohort]) -> Iterator[Study]:
    study = make_study(db, owner, cohorts[:1])
    db.commit()
    yield study


def sign_in(client: TestClient, db: Session, settings: Settings, user: User) -> str:
    signed_in(client, db, settings, user)
    return csrf_token_in(client.get("/research").text)


def cohort_ids(db: Session, study: Study) -> list[int]:
    return sorted(db.exec(select(StudyCohort.cohort_id).where(
        StudyCohort.study_id == study.id)).all())


def actions(db: Session, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_edit_form_shows_the_study_as_it_is(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    sign_in(client, db, settings, owner)
    page = client.get(f"/research/studies/{study.id}/edit")
    assert page.status_code == 200
    assert 'value="Pilot study"' in page.text and 'name="version" value="1"' in page.text
    assert f'href="/research/studies/{study.id}/edit"' in client.get(
        f"/research/studies/{study.id}").text


def test_editing_a_study_saves_its_details_and_cohorts_on_record(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study,
    cohorts: list[Cohort],
) -> None:
    token = sign_in(client, db, settings, owner)
    response = client.post(f"/research/studies/{study.id}/edit", data={
        "csrf_token": token, "title": "Meaning pilot, spring", "description": "Two cohorts.",
        "cohorts": [str(cohorts[0].id), str(cohorts[1].id)], "free_text": "on",
        "version": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/research/studies/{study.id}"
    db.refresh(study)
    assert (study.title, study.description, study.free_text, study.version) == (
        "Meaning pilot, spring", "Two cohorts.", True, 2)
    assert cohort_ids(db, study) == sorted(cohort.id for cohort in cohorts)  # type: ignore[misc]
    [event] = actions(db, "study.updated")
    assert event.actor_id == owner.id
    assert event.details["changed"]["title"] == {"before": "Pilot study",
                                                 "after": "Meaning pilot, spring"}
    assert set(event.details["changed"]) == {"title", "description", "free_text", "cohorts"}


def test_a_wrong_edit_is_refused_with_the_input_kept(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    response = client.post(f"/research/studies/{study.id}/edit", data={
        "csrf_token": token, "title": "", "description": "Kept <words>", "version": "1"})
    assert response.status_code == 400
    assert "Choose at least one cohort." in response.text
    assert "Kept &lt;words&gt;" in response.text and 'aria-invalid="true"' in response.text
    db.refresh(study)
    assert (study.title, study.version) == ("Pilot study", 1)
    assert actions(db, "study.updated") == []


def test_an_edit_from_an_old_version_is_refused_not_overwritten(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study,
    cohorts: list[Cohort],
) -> None:
    token = sign_in(client, db, settings, owner)
    assert owner.id is not None
    service.update_study(db, study=study, title="Changed elsewhere", description="",
                         cohort_ids=[cohorts[0].id or 0], free_text=False, version=1,
                         actor_id=owner.id)
    db.commit()
    response = client.post(f"/research/studies/{study.id}/edit", data={
        "csrf_token": token, "title": "My late title", "cohorts": str(cohorts[0].id),
        "version": "1"})
    assert response.status_code == 409
    assert "Someone changed this study since you opened the page" in response.text
    assert "Changed elsewhere" in response.text and 'value="My late title"' in response.text
    assert 'name="version" value="2"' in response.text
    db.refresh(study)
    assert (study.title, study.version) == ("Changed elsewhere", 2)


def test_another_researcher_cannot_edit_or_remove(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, researcher(db))
    assert client.get(f"/research/studies/{study.id}/edit").status_code == 404
    edit = client.post(f"/research/studies/{study.id}/edit",
                       data={"csrf_token": token, "title": "Mine", "version": "1"})
    remove = client.post(f"/research/studies/{study.id}/researchers/{owner.id}/remove",
                         data={"csrf_token": token})
    assert (edit.status_code, remove.status_code) == (404, 404)
    assert db.exec(select(StudyResearcher.user_id).where(
        StudyResearcher.study_id == study.id)).all() == [owner.id]


def test_removing_a_colleague_is_on_record(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    colleague = researcher(db)
    assert owner.id is not None and colleague.id is not None
    service.add_researcher(db, study=study, email=colleague.email, actor_id=owner.id)
    db.commit()
    response = client.post(f"/research/studies/{study.id}/researchers/{colleague.id}/remove",
                           data={"csrf_token": token})
    assert response.status_code == 303
    assert db.exec(select(StudyResearcher.user_id).where(
        StudyResearcher.study_id == study.id)).all() == [owner.id]
    [event] = actions(db, "study.researcher_removed")
    assert (event.actor_id, event.details["researcher_id"]) == (owner.id, colleague.id)
    with pytest.raises(service.StudyNotFound):
        service.study_for(db, study_id=study.id or 0, user_id=colleague.id)


def test_the_last_researcher_cannot_be_removed(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    response = client.post(f"/research/studies/{study.id}/researchers/{owner.id}/remove",
                           data={"csrf_token": token})
    assert response.status_code == 400
    assert "last researcher on the study" in response.text
    db.refresh(study)
    assert study.version == 1
    assert db.exec(select(StudyResearcher.user_id).where(
        StudyResearcher.study_id == study.id)).all() == [owner.id]
    assert actions(db, "study.researcher_removed") == []


def test_a_researcher_may_leave_a_study_a_colleague_keeps(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    colleague = researcher(db)
    assert owner.id is not None
    service.add_researcher(db, study=study, email=colleague.email, actor_id=owner.id)
    db.commit()
    response = client.post(f"/research/studies/{study.id}/researchers/{owner.id}/remove",
                           data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/research"
    assert client.get(f"/research/studies/{study.id}").status_code == 404


def _remove(url: str, study_id: int, user_id: int, actor_id: int,
            ready: threading.Barrier) -> bool:
    """Takes `user_id` off the study on a connection of its own; whether it did."""
    engine = make_engine(url)
    try:
        # Deferred, so that on SQLite both read before either writes, as on PostgreSQL.
        with session_scope(engine, deferred=True) as session:
            study = session.get(Study, study_id)
            assert study is not None
            ready.wait(timeout=10)
            service.remove_researcher(session, study=study, user_id=user_id,
                                      actor_id=actor_id)
        return True
    except (StaleEdit, service.FieldProblem):
        return False
    except OperationalError as error:  # SQLite: the other writer committed first
        if is_busy(error):
            return False
        raise
    finally:
        engine.dispose()


def test_two_researchers_removing_each_other_at_once_leave_one(
        engine: Engine, database_url: str) -> None:
    with session_scope(engine) as session:
        first, second = researcher(session), researcher(session)
        study = make_study(session, first, [])
        assert first.id is not None and second.id is not None and study.id is not None
        service.add_researcher(session, study=study, email=second.email, actor_id=first.id)
        ids = (study.id, first.id, second.id)
    study_id, first_id, second_id = ids
    try:
        ready = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            done = [pool.submit(_remove, database_url, study_id, second_id, first_id, ready),
                    pool.submit(_remove, database_url, study_id, first_id, second_id, ready)]
            removed = [future.result(timeout=30) for future in done]
        with session_scope(engine) as session:
            left = session.exec(select(StudyResearcher.user_id).where(
                StudyResearcher.study_id == study_id)).all()
        assert len(left) == 1 and removed.count(True) == 1
    finally:
        with session_scope(engine) as session:
            session.execute(delete(AuditEvent).where(
                col(AuditEvent.target_type) == "study",
                col(AuditEvent.target_id) == str(study_id)))
            session.execute(delete(Study).where(col(Study.id) == study_id))
            for user_id in (first_id, second_id):
                session.execute(delete(AuditEvent).where(col(AuditEvent.actor_id) == user_id))
                user = session.get(User, user_id)
                if user is not None:
                    session.delete(user)
