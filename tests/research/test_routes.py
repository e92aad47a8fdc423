"""The research pages: studies, participants, downloads and the outcome report."""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import nullcontext

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.journeys.definitions import Wave
from app.research import routes, service
from app.research.models import Study, StudyResearcher
from app.research.report import outcome_report
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.factories import create_user, signed_in
from tests.jobs import run_due_jobs
from tests.research.studies import answer, make_cohort, make_member, make_study, researcher


@pytest.fixture(autouse=True)
def exports_read_the_test_transaction(app: FastAPI, db: Session) -> Iterator[None]:
    """A streamed export reads in a session of its own once the request's has ended; in
    tests that is the test's session, whose rows no other connection can see."""
    app.dependency_overrides[routes.export_sessions] = lambda: (lambda: nullcontext(db))
    app.dependency_overrides[routes.record_sessions] = lambda: (lambda: nullcontext(db))
    yield
    app.dependency_overrides.pop(routes.export_sessions, None)
    app.dependency_overrides.pop(routes.record_sessions, None)


def sign_in(client: TestClient, db: Session, settings: Settings, user: User) -> str:
    signed_in(client, db, settings, user)
    return csrf_token_in(client.get("/research").text)


@pytest.fixture
def owner(db: Session) -> User:
    return researcher(db)


@pytest.fixture
def study(db: Session, owner: User) -> Study:
    cohort = make_cohort(db)
    for before, after in ((2, 3), (3, 5), (3, 4), (4, 5)):
        _, enrolment = make_member(db, cohort)
        answer(db, enrolment, value=before)
        answer(db, enrolment, wave=Wave.post, value=after, day=40)
    _, gone = make_member(db, cohort, withdrawn=True, name="Wanda Withdrawn")
    answer(db, gone, value=1)
    study = make_study(db, owner, [cohort])
    db.commit()
    return study


def study_urls(study_id: int) -> list[str]:
    return [f"/research/studies/{study_id}{suffix}"
            for suffix in ("", "/participants", "/export", "/outcomes")]


def test_a_researcher_sees_their_studies_and_not_others(
    client: TestClient, db: Session, settings: Settings, study: Study
) -> None:
    other = researcher(db)
    sign_in(client, db, settings, other)
    page = client.get("/research")
    assert page.status_code == 200 and study.title not in page.text
    assert study.id is not None
    for url in study_urls(study.id):
        assert client.get(url).status_code == 404, url
    token = csrf_token_in(page.text)
    refused = client.post(f"/research/studies/{study.id}/export",
                          data={"csrf_token": token, "format": "long"})
    assert refused.status_code == 404
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "research.export")).all() == []


def test_the_owner_reaches_every_page_of_the_study(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    sign_in(client, db, settings, owner)
    assert study.title in client.get("/research").text
    assert study.id is not None
    for url in study_urls(study.id):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.member, Role.mentor, Role.manager, Role.admin])
def test_other_roles_cannot_reach_any_research_page(
    client: TestClient, db: Session, settings: Settings, study: Study, role: Role
) -> None:
    signed_in(client, db, settings, create_user(db, roles=[role]))
    assert study.id is not None
    for url in ["/research", "/research/studies/new", *study_urls(study.id)]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "This page is for people with the researcher role" in response.text


def test_participants_page_counts_and_shows_pseudonyms_only(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    sign_in(client, db, settings, owner)
    page = client.get(f"/research/studies/{study.id}/participants").text
    census = service.census(db, study)
    assert census.consented == 4 and census.withdrawn == 1
    for participant in census.participants:
        assert participant.pseudonym in page
    members = db.exec(select(User).where(col(User.email).like("member%"))).all()
    assert members and not any(user.email in page or user.display_name in page
                               for user in members)


def test_creating_a_study_keeps_input_and_says_what_is_wrong(
    client: TestClient, db: Session, settings: Settings, owner: User
) -> None:
    token = sign_in(client, db, settings, owner)
    response = client.post("/research/studies", data={
        "csrf_token": token, "title": "Meaning pilot", "slug": "Not A Slug!",
        "consent": "telos"})
    assert response.status_code == 400
    assert "Choose at least one cohort." in response.text
    assert "Use lower-case letters" in response.text
    assert 'value="Meaning pilot"' in response.text


def test_creating_a_study_with_a_battery_of_ones_own(
    client: TestClient, db: Session, settings: Settings, owner: User
) -> None:
    token = sign_in(client, db, settings, owner)
    cohort = make_cohort(db)
    db.commit()
    response = client.post("/research/studies", data={
        "csrf_token": token, "title": "Meaning pilot", "slug": "", "consent": "telos",
        "cohorts": str(cohort.id), "pre": ["hope", "happiness"], "post": "hope",
        "free_text": "on"})
    assert response.status_code == 303
    study = db.exec(select(Study).where(Study.title == "Meaning pilot")).one()
    assert response.headers["location"] == f"/research/studies/{study.id}"
    assert (study.slug, study.free_text) == ("meaning-pilot", True)
    assert study.battery == {"pre": ["hope", "happiness"], "post": ["hope"], "followup": []}
    assert db.exec(select(StudyResearcher.user_id).where(
        StudyResearcher.study_id == study.id)).all() == [owner.id]
    page = client.get(response.headers["location"]).text
    assert "hope" in page and study.secret not in page


def test_adding_a_colleague_by_email(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    colleague = researcher(db)
    url = f"/research/studies/{study.id}/researchers"
    wrong = client.post(url, data={"csrf_token": token, "email": "nobody@example.org"})
    assert wrong.status_code == 400
    assert "No researcher has an account" in wrong.text and "nobody@example.org" in wrong.text
    added = client.post(url, data={"csrf_token": token, "email": colleague.email})
    assert added.status_code == 303
    assert colleague.id is not None and study.id is not None
    assert service.study_for(db, study_id=study.id, user_id=colleague.id) is not None


def exports(db: Session) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == "research.export")))


def test_a_streamed_csv_download_is_recorded_with_its_row_count(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    response = client.post(f"/research/studies/{study.id}/export",
                           data={"csrf_token": token, "format": "long", "wave": "pre"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"{study.slug}-long.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 16 and {row["wave"] for row in rows} == {"pre"}
    [event] = exports(db)
    assert event.actor_id == owner.id and event.target_id == str(study.id)
    assert event.details["actor"] == "web" and event.details["study"] == study.slug
    assert event.details["format"] == "long" and event.details["rows"] == 16
    assert event.details["files"] == [f"{study.slug}-long.csv"]
    assert event.details["filters"] == {"waves": "pre", "instruments": "all"}
    assert event.details["counts"] == {"participants": 4, "responses": 4, "answers": 16,
                                       "scores": 4}
    assert event.details["free_text"] is False


def built(client: TestClient, db: Session, settings: Settings, token: str, study: Study,
          fmt: str) -> Response:
    """Ask for a file, let its job build it, and download it from the export page."""
    asked = client.post(f"/research/studies/{study.id}/export",
                        data={"csrf_token": token, "format": fmt})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/research/studies/{study.id}/export"
    assert run_due_jobs(db, settings) >= 1
    page = client.get(f"/research/studies/{study.id}/export")
    newest = re.findall(rf'href="(/research/studies/{study.id}/exports/\d+)"', page.text)[0]
    response = client.get(newest)
    assert response.status_code == 200
    return response


def test_files_are_built_by_a_job_then_downloaded(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    assert "happiness" in built(client, db, settings, token, study, "codebook-html").text
    assert built(client, db, settings, token, study, "parquet").content.startswith(b"PAR1")
    assert [event.details["format"] for event in exports(db)] == ["codebook-html", "parquet"]
    requested = db.exec(select(AuditEvent).where(
        AuditEvent.action == "research.export.requested")).all()
    assert [event.details["format"] for event in requested] == ["codebook-html", "parquet"]


def test_a_zip_bundle_download(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    response = built(client, db, settings, token, study, "bundle")
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "long.csv" in " ".join(names)
    assert f"{study.slug}-export.zip" in response.headers["content-disposition"]
    assert exports(db)[0].details["files"] == [f"{study.slug}-export.zip"]
    assert exports(db)[0].details["free_text"] == any(n.endswith("texts.csv") for n in names)
    assert exports(db)[0].details["rows"] == int(response.headers["x-export-rows"]) == 32


def test_an_unknown_wave_or_format_is_refused_without_a_record(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    token = sign_in(client, db, settings, owner)
    url = f"/research/studies/{study.id}/export"
    wave = client.post(url, data={"csrf_token": token, "format": "long", "wave": "later"})
    assert wave.status_code == 400 and "not a wave of this study: later" in wave.text
    fmt = client.post(url, data={"csrf_token": token, "format": "xlsx"})
    assert fmt.status_code == 404 and "no export format called" in fmt.text
    assert exports(db) == []


def test_the_outcome_report_page(
    client: TestClient, db: Session, settings: Settings, owner: User, study: Study
) -> None:
    sign_in(client, db, settings, owner)
    waiting = client.get(f"/research/studies/{study.id}/outcomes")
    assert waiting.status_code == 200 and "The report is being computed" in waiting.text
    assert 'hx-trigger="every 2s"' in waiting.text
    assert run_due_jobs(db, settings) == 1
    page = client.get(f"/research/studies/{study.id}/outcomes")
    assert page.status_code == 200
    assert "for the 4 participants" in page.text and "Computed at " in page.text
    summary = outcome_report(db, study).report.summary
    assert "improved significantly" in summary
    assert str(escape(summary)) in page.text
    assert "<svg" in page.text and 'hx-trigger="every 2s"' not in page.text
