"""Exporting a study: one format of one selection, written to a file or sent as it is
written, and always recorded in the audit log before any of it leaves.

CSV formats are streamed: the rows are counted first with COUNT queries in the request's
transaction, a "research.export.started" event is written with those counts and committed
with the request, and only then are the rows read again (in a read-only transaction of
their own) and sent. When the stream ends, complete or cut off, a "research.export" event
records what actually left: the rows and bytes sent and whether the download finished.
A response that dies half way is therefore still on record. The other formats (Parquet,
SPSS, Stata, codebooks, the bundle) need the whole file before the first byte can go: on
the web they are built by a job (`app.research.export_files`), which writes the file with
`write_file`, records it with the exact row count the writer returned, and keeps it for
its requester to download.
"""

import io
import logging
import queue
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.audit import service as audit
from app.errors import NotFound
from app.research import service
from app.research.exports import FORMATS, ExportFormat, write_export
from app.research.models import Study
from app.research.service import Participant
from app.research.source import Counts, Selection, carries_free_text, count, export_source

log = logging.getLogger(__name__)

STREAMED = frozenset({"long", "wide", "scores"})
SessionFactory = Callable[[], AbstractContextManager[Session]]


class UnknownFormat(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no export format called {name!r}.")


def export_format(name: str) -> ExportFormat:
    if name not in FORMATS:
        raise UnknownFormat(name)
    return FORMATS[name]


def filename(study: Study, fmt: ExportFormat) -> str:
    return f"{study.slug}-{fmt.filename}"


@dataclass
class Prepared:
    """A streamed export ready to send: its rows are still to be written."""

    filename: str
    media_type: str
    rows: int
    study: Study
    fmt: ExportFormat
    selection: Selection
    people: list[Participant]
    counts: Counts
    actor_id: int | None
    actor: str
    started_event: int | None

    def stream(self, sessions: SessionFactory, chunk_bytes: int = 0) -> Iterator[bytes]:
        return _stream(sessions, self.study, self.fmt, self.selection, self.people,
                       chunk_bytes or CHUNK_BYTES)


def prepare(session: Session, *, study: Study, fmt_name: str, selection: Selection,
            actor_id: int | None, actor: str) -> Prepared:
    """A streamed export of `selection` (a CSV format), on record as started."""
    fmt = export_format(fmt_name)
    if fmt.name not in STREAMED:
        raise ValueError(f"{fmt.name} is built by a job, not streamed")
    people, counts = plan(session, study, selection)
    name = filename(study, fmt)
    rows = expected_rows(fmt.name, counts)
    started = audit.record(
        session, action="research.export.started", actor_id=actor_id, target_type="study",
        target_id=study.id, actor=actor, study=study.slug, format=fmt.name,
        filters=selection.as_filters(study), files=[name], rows_expected=rows,
        counts=counts.as_dict())
    return Prepared(filename=name, media_type=fmt.media_type, rows=rows, study=study, fmt=fmt,
                    selection=selection, people=people, counts=counts, actor_id=actor_id,
                    actor=actor, started_event=started.id)


@dataclass
class Sent:
    size: int = 0
    lines: int = 0
    complete: bool = False

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.lines += chunk.count(b"\n")

    @property
    def rows(self) -> int:
        return max(self.lines - 1, 0)  # the header is a line, not a row


async def body(prepared: Prepared, read_sessions: SessionFactory,
               write_sessions: SessionFactory, *, chunk_bytes: int = 0,
               ) -> AsyncIterator[bytes]:
    """The download's bytes; when they stop, finished or cut off, what was sent goes on
    record. (CSV fields of these formats hold no line breaks, so lines count rows.)"""
    chunks = prepared.stream(read_sessions, chunk_bytes)
    sent = Sent()
    try:
        while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
            sent.add(chunk)
            yield chunk
        sent.complete = True
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_finish, prepared, chunks, sent, write_sessions)


def _finish(prepared: Prepared, chunks: Iterator[bytes], sent: Sent,
            sessions: SessionFactory) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()  # stops the writer thread if the client went away
    try:
        with sessions() as session:
            record(session, study=prepared.study, fmt=prepared.fmt,
                   selection=prepared.selection, name=filename(prepared.study, prepared.fmt),
                   rows=sent.rows, counts=prepared.counts, actor_id=prepared.actor_id,
                   actor=prepared.actor, people=prepared.people, bytes=sent.size,
                   complete=sent.complete, rows_expected=prepared.rows,
                   started_event=prepared.started_event)
    except Exception:
        log.exception("could not record what was sent of the export of %s",
                      prepared.study.slug)


def plan(session: Session, study: Study,
         selection: Selection) -> tuple[list[Participant], Counts]:
    people = service.participants(session, study)
    return people, count(session, selection, people)


def export_to(session: Session, *, study: Study, fmt_name: str, selection: Selection,
              out: BinaryIO, people: list[Participant], counts: Counts, actor: str,
              progress: Any = None) -> int:
    """The export written to `out` (the CLI's file), on record in the audit log."""
    fmt = export_format(fmt_name)
    rows = write_export(export_source(session, study, selection, people), fmt.name, out,
                        progress)
    record(session, study=study, fmt=fmt, selection=selection, name=filename(study, fmt),
           rows=rows, counts=counts, actor_id=None, actor=actor, people=people)
    return rows


def write_file(session: Session, *, study: Study, fmt: ExportFormat, selection: Selection,
               people: list[Participant], progress: Any = None,
               directory: Path | None = None) -> tuple[Path, int]:
    """The export in a temporary file in `directory` (the caller renames or deletes it),
    and the rows written. A failed write leaves no file."""
    source = export_source(session, study, selection, people)
    descriptor, name = tempfile.mkstemp(prefix=".telos-export-", suffix=".part", dir=directory)
    path = Path(name)
    try:
        with open(descriptor, "wb") as handle:
            rows = write_export(source, fmt.name, handle, progress)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, rows


def progress_total(name: str, counts: Counts) -> int | None:
    """What the writers' progress counts up to, where it is known before writing."""
    return expected_rows(name, counts) if name in STREAMED else None


def expected_rows(name: str, counts: Counts) -> int:
    return {"long": counts.answers, "scores": counts.scores,
            "wide": counts.participants}[name]


def record(session: Session, *, study: Study, fmt: ExportFormat, selection: Selection,
           name: str, rows: int, counts: Counts, actor_id: int | None, actor: str,
           people: list[Participant], **extra: Any) -> None:
    # Free text leaves only in the bundle; the record says whether this one carried it.
    free_text = fmt.name == "bundle" and carries_free_text(study, people)
    audit.record(session, action="research.export", actor_id=actor_id, target_type="study",
                 target_id=study.id, actor=actor, study=study.slug, format=fmt.name,
                 filters=selection.as_filters(study), files=[name], rows=rows,
                 counts=counts.as_dict(), free_text=free_text, **extra)


# Streaming: the writer pushes bytes into a file object; a response pulls them. A thread
# runs the writer and a small queue between them holds it back while the client reads.

_DONE = object()
CHUNK_BYTES = 64 * 1024


class _Stopped(Exception):
    """The client went away; the writer stops at its next write."""


class _QueueWriter(io.RawIOBase):
    def __init__(self, out: "queue.Queue[object]", stop: threading.Event,
                 chunk_bytes: int) -> None:
        super().__init__()
        self.out = out
        self.stop = stop
        self.chunk_bytes = chunk_bytes
        self.buffer = bytearray()

    def write(self, data: Any) -> int:
        self.buffer += data
        if len(self.buffer) >= self.chunk_bytes:
            self.flush()
        return len(data)

    def flush(self) -> None:
        while self.buffer:
            if self.stop.is_set():
                raise _Stopped()
            try:
                self.out.put(bytes(self.buffer), timeout=1)
                self.buffer.clear()
            except queue.Full:
                continue

    def writable(self) -> bool:
        return True


def _stream(sessions: SessionFactory, study: Study, fmt: ExportFormat, selection: Selection,
            people: list[Participant], chunk_bytes: int) -> Iterator[bytes]:
    pipe: queue.Queue[object] = queue.Queue(maxsize=16)
    stop = threading.Event()

    def work() -> None:
        outcome: object = _DONE
        try:
            with sessions() as session:
                writer: Any = _QueueWriter(pipe, stop, chunk_bytes)
                write_export(export_source(session, study, selection, people), fmt.name, writer)
                writer.flush()
        except _Stopped:
            pass
        except Exception as error:
            log.exception("export of %s as %s failed while streaming", study.slug, fmt.name)
            outcome = error
        _put_until_stopped(pipe, outcome, stop)

    thread = threading.Thread(target=work, name=f"export-{study.slug}", daemon=True)
    thread.start()
    try:
        while (item := pipe.get()) is not _DONE:
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        thread.join()


def _put_until_stopped(pipe: "queue.Queue[object]", item: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            pipe.put(item, timeout=1)
            return
        except queue.Full:
            continue
