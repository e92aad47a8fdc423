"""Export files built by a job: asked for, listed, downloaded by their requester only,
failed with a message, and deleted when they expire."""

import os
import re
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.audit.models import AuditEvent
from app.clock import now
from app.jobs import service as job_service
from app.jobs.models import Job, JobStatus
from app.journeys.definitions import Wave
from app.research import export_files, service
from app.research.models import ExportFile, ExportStatus, Study
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.factories import signed_in
from tests.jobs import run_due_jobs
from tests.research.studies import answer, make_cohort, make_member, make_study, researcher


@pytest.fixture
def owner(db: Session) -> object:
    return researcher(db)


@pytest.fixture
def study(db: Session, owner: object) -> Study:
    cohort = make_cohort(db)
    for value in (2, 3, 4):
        _, enrolment = make_member(db, cohort)
        answer(db, enrolment, value=value)
        answer(db, enrolment, wave=Wave.post, value=value + 1, day=30)
    study = make_study(db, owner, [cohort])  # type: ignore[arg-type]
    db.commit()
    return study


def signed_in_client(app: FastAPI, db: Session, settings: Settings, user: object) -> tuple[
        TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    signed_in(client, db, settings, user)  # type: ignore[arg-type]
    return client, csrf_token_in(client.get("/research").text)


def ask(client: TestClient, token: str, study: Study, fmt: str = "bundle",
        **choices: str) -> None:
    response = client.post(f"/research/studies/{study.id}/export",
                           data={"csrf_token": token, "format": fmt, **choices})
    assert response.status_code == 303, response.text


def files(db: Session) -> list[ExportFile]:
    return list(db.exec(select(ExportFile).order_by(col(ExportFile.id))))


def download_links(html: str, study: Study) -> list[str]:
    return re.findall(rf'href="(/research/studies/{study.id}/exports/\d+)"', html)


def test_asking_returns_at_once_and_the_page_polls_until_the_file_is_ready(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    ask(client, token, study, wave="pre")
    [record] = files(db)
    assert record.status == ExportStatus.queued and record.path == ""
    assert record.selection == {"waves": ["pre"], "instruments": []}
    [job] = db.exec(select(Job).where(Job.name == "research.export")).all()
    assert job.payload == {"export_file_id": record.id}
    [requested] = db.exec(select(AuditEvent).where(
        AuditEvent.action == "research.export.requested")).all()
    assert requested.details["format"] == "bundle" and requested.details["export_file"] == record.id
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "research.export")).all() == []

    waiting = client.get(f"/research/studies/{study.id}/export")
    assert "Your file is being built" in waiting.text
    assert "waiting to be built" in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    assert "refresh to see it" in waiting.text and download_links(waiting.text, study) == []
    # Without JavaScript the link must load the page again: with a #fragment it only scrolls.
    assert f'<a href="/research/studies/{study.id}/export">show the list again</a>' in waiting.text
    fragment = client.get(f"/research/studies/{study.id}/export", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="export-files"')
    assert "<html" not in fragment.text

    assert run_due_jobs(db, settings) == 1
    db.refresh(record)
    assert record.status == ExportStatus.ready and record.rows == 12
    assert record.counts == {"participants": 3, "responses": 3, "answers": 12, "scores": 3}
    path = export_files.folder(settings) / record.path
    assert path.is_file() and path.stat().st_size == record.size_bytes
    assert record.ready_at is not None and record.expires_at == record.ready_at + timedelta(days=7)
    assert [p.name for p in export_files.folder(settings).iterdir()] == [record.path]
    [done] = db.exec(select(AuditEvent).where(AuditEvent.action == "research.export")).all()
    assert done.details["files"] == [f"{study.slug}-export.zip"] and done.details["rows"] == 12
    assert done.details["counts"]["participants"] == 3 and done.details["free_text"] is False

    ready = client.get(f"/research/studies/{study.id}/export", headers={"HX-Request": "true"})
    assert 'hx-trigger' not in ready.text and "ready" in ready.text
    assert "12" in ready.text and "3 participants" in ready.text
    [link] = download_links(ready.text, study)
    got = client.get(link)
    assert got.status_code == 200 and got.content == path.read_bytes()
    assert got.headers["content-type"] == "application/zip"
    assert f"{study.slug}-export.zip" in got.headers["content-disposition"]


def test_a_job_run_twice_builds_one_file(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    ask(client, token, study, "parquet")
    [job] = db.exec(select(Job).where(Job.name == "research.export")).all()
    assert run_due_jobs(db, settings) == 1
    job_service.retry(db, job)  # delivered again: the file is there, nothing more is built
    assert run_due_jobs(db, settings) == 1
    assert len(list(export_files.folder(settings).iterdir())) == 1
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "research.export")).all()) \
        == 1


def test_only_the_researcher_who_asked_sees_and_downloads_the_file(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    ask(client, token, study, "dta")
    run_due_jobs(db, settings)
    db.commit()
    [link] = download_links(client.get(f"/research/studies/{study.id}/export").text, study)

    colleague = researcher(db)
    service.add_researcher(db, study=study, email=colleague.email,
                           actor_id=study.created_by_id or 0)
    db.commit()
    other, _ = signed_in_client(app, db, settings, colleague)
    page = other.get(f"/research/studies/{study.id}/export")
    assert page.status_code == 200 and download_links(page.text, study) == []
    assert "You have not asked for a file of this study yet" in page.text
    refused = other.get(link)
    assert refused.status_code == 404
    assert "no export file with that number among yours" in refused.text
    assert client.get(link).status_code == 200


def test_the_study_page_lists_the_newest_files_of_the_researcher_only(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    for fmt in ("dta", "sav", "parquet", "codebook"):
        ask(client, token, study, fmt)
    assert run_due_jobs(db, settings) == 4
    ask(client, token, study, "bundle")
    db.commit()
    _, _, parquet, codebook, bundle = files(db)
    overview = client.get(f"/research/studies/{study.id}")
    assert overview.status_code == 200 and "Your export files" in overview.text
    assert download_links(overview.text, study) == [
        f"/research/studies/{study.id}/exports/{codebook.id}",
        f"/research/studies/{study.id}/exports/{parquet.id}"]
    assert f"<code>{bundle.file_name}</code>" in overview.text
    assert "waiting to be built" in overview.text and "(the newest 3 are above)" in overview.text
    assert f'href="/research/studies/{study.id}/export#your-files">All your files' in overview.text
    assert "wide.sav" not in overview.text and "wide.dta" not in overview.text

    colleague = researcher(db)
    service.add_researcher(db, study=study, email=colleague.email,
                           actor_id=study.created_by_id or 0)
    db.commit()
    other, _ = signed_in_client(app, db, settings, colleague)
    theirs = other.get(f"/research/studies/{study.id}")
    assert theirs.status_code == 200 and download_links(theirs.text, study) == []
    assert "You have not asked for a file of this study yet" in theirs.text
    assert bundle.file_name not in theirs.text


def test_expired_files_are_deleted_by_the_clean_up(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    ask(client, token, study, "sav")
    run_due_jobs(db, settings)
    [record] = files(db)
    path = export_files.folder(settings) / record.path
    [link] = download_links(client.get(f"/research/studies/{study.id}/export").text, study)

    later = now() + timedelta(days=7, minutes=1)
    monkeypatch.setattr("app.research.export_files.now", lambda: later)
    job_service.enqueue(db, "research.exports_cleanup")
    assert run_due_jobs(db, settings) == 1
    db.commit()  # as the worker's transaction would be; a refused request rolls back
    db.refresh(record)
    assert record.status == ExportStatus.expired and record.path == "" and not path.exists()
    assert client.get(link).status_code == 404
    assert "expired and deleted" in client.get(f"/research/studies/{study.id}/export").text


def test_a_file_past_its_expiry_cannot_be_downloaded_before_the_clean_up(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study,
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    ask(client, token, study, "codebook")
    run_due_jobs(db, settings)
    [record] = files(db)
    [link] = download_links(client.get(f"/research/studies/{study.id}/export").text, study)
    record.expires_at = now() - timedelta(seconds=1)
    db.add(record)
    db.commit()
    assert client.get(link).status_code == 404
    assert download_links(client.get(f"/research/studies/{study.id}/export").text, study) == []


def test_a_file_that_cannot_be_built_ends_failed_with_its_reason_and_no_file(
    app: FastAPI, db: Session, settings: Settings, owner: object, study: Study,
) -> None:
    client, token = signed_in_client(app, db, settings, owner)
    ask(client, token, study, "bundle", instrument="happiness")
    # The study stops giving the questionnaire before the job runs.
    study.battery = {"pre": ["loneliness"], "post": [], "followup": []}
    db.add(study)
    db.commit()
    [job] = db.exec(select(Job).where(Job.name == "research.export")).all()
    for _attempt in range(3):
        assert run_due_jobs(db, settings) == 1
        db.refresh(job)
        job.run_after = now()  # the retry's wait, passed
        db.add(job)
        db.commit()
    [record] = files(db)
    assert job.status == JobStatus.failed and record.status == ExportStatus.failed
    assert "not an instrument of this study: happiness" in record.error
    page = client.get(f"/research/studies/{study.id}/export").text
    assert "could not be built: " in page and "happiness" in page
    assert 'hx-trigger' not in page and download_links(page, study) == []
    folder = export_files.folder(settings)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_the_clean_up_removes_what_a_dead_attempt_left_half_written(
    db: Session, settings: Settings,
) -> None:
    folder = export_files.folder(settings)
    folder.mkdir(parents=True)
    stale, fresh = folder / ".telos-export-dead.part", folder / ".telos-export-now.part"
    stale.write_bytes(b"PK half")
    fresh.write_bytes(b"PK being written")
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    job_service.enqueue(db, "research.exports_cleanup")
    assert run_due_jobs(db, settings) == 1
    assert not stale.exists() and fresh.exists()
