"""Export files built by a job: asked for on the export page, written by `research.export`,
kept for 7 days for the researcher who asked, then deleted.

The request writes the record, its audit event ("research.export.requested") and the job
in one transaction. The job writes the file under a temporary name in the exports folder,
renames it once whole, and only then marks the record ready and writes the audit event of
the completed file ("research.export"), with its row counts.
"""

import hashlib
import os
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app import jobs
from app.audit import service as audit
from app.clock import now
from app.errors import NotFound
from app.research import downloads
from app.research.models import ExportFile, ExportStatus, Study, StudyResearcher
from app.research.source import Selection, select_part
from app.settings import Settings

TASK = "research.export"
KEEP = timedelta(days=7)
FOLDER = "exports"
# A temporary file this old belongs to an attempt that died (a lease is 10 minutes).
STALE_PART = timedelta(hours=1)
BUSY = (ExportStatus.queued, ExportStatus.building)


class ExportFileNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no export file with that number among yours.")


class ExportFileGone(NotFound):
    def __init__(self) -> None:
        super().__init__("This file is not there to download: it is still being built, "
                         "it could not be built, or it has expired. See the export page.")


def folder(settings: Settings) -> Path:
    return settings.var_dir / FOLDER


def built_by_job(fmt_name: str) -> bool:
    return downloads.export_format(fmt_name).name not in downloads.STREAMED


def request_file(session: Session, *, study: Study, fmt_name: str, selection: Selection,
                 chosen: dict[str, list[str]], user_id: int) -> ExportFile:
    """Ask for the export of `selection` in a format built by a job."""
    fmt = downloads.export_format(fmt_name)
    assert study.id is not None and fmt.name not in downloads.STREAMED
    record = ExportFile(study_id=study.id, requested_by_id=user_id, format=fmt.name,
                        selection={"waves": list(chosen["wave"]),
                                   "instruments": list(chosen["instrument"])},
                        file_name=downloads.filename(study, fmt))
    session.add(record)
    session.flush()
    audit.record(session, action="research.export.requested", actor_id=user_id,
                 target_type="study", target_id=study.id, actor="web", study=study.slug,
                 format=fmt.name, filters=selection.as_filters(study), export_file=record.id)
    jobs.enqueue(session, TASK, export_file_id=record.id)
    return record


def files_of(session: Session, *, study_id: int, user_id: int) -> list[ExportFile]:
    """This researcher's files of this study, newest first; nobody else's."""
    return list(session.exec(
        select(ExportFile).where(ExportFile.study_id == study_id,
                                 ExportFile.requested_by_id == user_id)
        .order_by(col(ExportFile.id).desc()).limit(50)))


def latest_of(session: Session, *, user_id: int,
              limit: int = 5) -> list[tuple[ExportFile, Study]]:
    """This researcher's newest files of the studies they are still on, with the study."""
    rows = session.exec(
        select(ExportFile, Study).join(Study, col(Study.id) == ExportFile.study_id)
        .join(StudyResearcher, (col(StudyResearcher.study_id) == Study.id)
              & (col(StudyResearcher.user_id) == user_id))
        .where(ExportFile.requested_by_id == user_id)
        .order_by(col(ExportFile.id).desc()).limit(limit))
    return [(record, study) for record, study in rows]


def any_busy(files: Sequence[ExportFile]) -> bool:
    return any(record.status in BUSY for record in files)


def file_for(session: Session, *, study_id: int, file_id: int, user_id: int) -> ExportFile:
    record = session.get(ExportFile, file_id)
    if record is None or record.study_id != study_id or record.requested_by_id != user_id:
        raise ExportFileNotFound()
    return record


def downloadable(record: ExportFile, settings: Settings, *,
                 moment: datetime | None = None) -> Path:
    """The finished file on disk, while it has not expired."""
    moment = moment or now()
    path = folder(settings) / record.path if record.path else None
    if (record.status != ExportStatus.ready or record.expires_at is None
            or record.expires_at <= moment or path is None or not path.is_file()):
        raise ExportFileGone()
    return path


# Building, in the job ------------------------------------------------------------------


def start(session: Session, *, export_file_id: int) -> ExportFile | None:
    """The record to build, marked building; None when there is nothing left to do."""
    record = session.get(ExportFile, export_file_id)
    if record is None or record.status not in BUSY:
        return None
    record.status = ExportStatus.building
    session.add(record)
    session.flush()
    return record


def write(session: Session, *, record: ExportFile, directory: Path) -> tuple[Path, int, Any]:
    """The whole file under a temporary name in `directory`, its rows, and what the audit
    event of the completed file needs (study, format, selection, participants, counts)."""
    study = session.get(Study, record.study_id)
    assert study is not None
    fmt = downloads.export_format(record.format)
    selection = select_part(study, waves=record.selection.get("waves", []),
                            instruments=record.selection.get("instruments", []))
    people, counts = downloads.plan(session, study, selection)
    temporary, rows = downloads.write_file(session, study=study, fmt=fmt, selection=selection,
                                           people=people, directory=directory)
    return temporary, rows, (study, fmt, selection, people, counts)


def finish(session: Session, *, export_file_id: int, temporary: Path, rows: int,
           facts: Any, directory: Path) -> ExportFile | None:
    """Put the file in place and mark the record ready, with its audit event; a record that
    went meanwhile (study deleted) or was finished by another attempt keeps no file."""
    record = session.get(ExportFile, export_file_id)
    if record is None or record.status not in BUSY:
        temporary.unlink(missing_ok=True)
        return None
    study, fmt, selection, people, counts = facts
    name = f"{record.id}-{secrets.token_hex(8)}-{record.file_name}"
    final = directory / name
    record.size_bytes, record.sha256 = temporary.stat().st_size, _sha256(temporary)
    os.replace(temporary, final)
    try:
        moment = now()
        record.path, record.rows, record.counts = name, rows, counts.as_dict()
        record.status, record.error = ExportStatus.ready, ""
        record.ready_at, record.expires_at = moment, moment + KEEP
        session.add(record)
        downloads.record(session, study=study, fmt=fmt, selection=selection,
                         name=record.file_name, rows=rows, counts=counts,
                         actor_id=record.requested_by_id, actor="web", people=people,
                         export_file=record.id, size_bytes=record.size_bytes)
        session.flush()
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return record


def failed(session: Session, *, export_file_id: int, error: str, final: bool) -> None:
    record = session.get(ExportFile, export_file_id)
    if record is None or record.status not in BUSY:
        return
    record.status = ExportStatus.failed if final else ExportStatus.queued
    record.error = error[-2000:]
    session.add(record)
    session.flush()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


# Clean-up -------------------------------------------------------------------------------


def expire(session: Session, *, settings: Settings, moment: datetime | None = None) -> int:
    """Delete the files past their expiry and mark their records expired."""
    moment = moment or now()
    due = session.exec(select(ExportFile).where(
        ExportFile.status == ExportStatus.ready, col(ExportFile.expires_at) <= moment)).all()
    for record in due:
        if record.path:
            (folder(settings) / record.path).unlink(missing_ok=True)
        record.status, record.path = ExportStatus.expired, ""
        session.add(record)
    session.flush()
    return len(due)


def sweep_strays(session: Session, *, settings: Settings, moment: datetime | None = None) -> int:
    """Delete what no ready record names: temporary files of attempts that died, and
    files whose record went. Returns how many went."""
    directory = folder(settings)
    if not directory.is_dir():
        return 0
    moment = moment or now()
    kept = set(session.exec(select(ExportFile.path).where(
        ExportFile.status == ExportStatus.ready)).all())
    removed = 0
    for path in directory.iterdir():
        old = datetime.fromtimestamp(path.stat().st_mtime, moment.tzinfo) < moment - STALE_PART
        if path.is_file() and path.name not in kept and old:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
