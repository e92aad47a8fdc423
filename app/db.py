"""The database engine and the per-request session."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_BUSY = 5  # also the low byte of its extended codes (SQLITE_BUSY_SNAPSHOT is 517)
# Execution option: start the transaction with a plain (deferred) BEGIN. Such a unit of
# work reads from its own snapshot beside the others; if it writes after all, the write
# can fail at once with "database is locked" (see `is_busy`).
DEFERRED = "read_only"
# Where `app.main.DatabaseTurns` says, in the request's state, which turn a request has.
TURN = "database_turn"
READ_TURN = "read"
WRITE_TURN = "write"


def make_engine(url: str, *, turns: int = 1, **kwargs: Any) -> Engine:
    """The engine for `url`; on SQLite, room for `turns` units of work at a time.

    `turns` is for the web app, which lets that many requests hold a connection at once
    (`app.main.DatabaseTurns`); the CLI and the worker keep one pooled connection.
    PostgreSQL ignores it.
    """
    if make_url(url).get_backend_name() == "sqlite":
        # SQLite needs its own setup: the file's directory, the pragmas, and
        # transactions that SQLAlchemy controls (so SAVEPOINT works).
        return _sqlite_engine(url, turns=turns, **kwargs)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite's "database is locked" (SQLITE_BUSY or an extended code).

    A deferred transaction that has read and then writes gets it at once, without the
    busy timeout, when another connection holds the write lock or has committed since
    its snapshot was taken (SQLITE_BUSY_SNAPSHOT). Run again from the start with
    BEGIN IMMEDIATE, the same unit of work succeeds.
    """
    original = getattr(error, "orig", error)
    if not isinstance(original, sqlite3.OperationalError):
        return False
    code = getattr(original, "sqlite_errorcode", None)
    if code is None:
        return "database is locked" in str(original)
    return bool(code & 0xFF == SQLITE_BUSY)


def _sqlite_engine(url: str, *, turns: int, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        from pathlib import Path

        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # With turns > 1, as many spare connections again, for units of work outside the
    # turns (a streamed export reads after its request has given its turn back).
    options: dict[str, Any] = {"pool_size": turns, "max_overflow": 0 if turns == 1 else turns,
                               "pool_timeout": 30}
    if database in (None, "", ":memory:"):
        options = {}
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **{**options, **kwargs},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    # SQLite has one writer at a time; in WAL mode readers do not wait for it. A unit of
    # work that may write starts with BEGIN IMMEDIATE: it takes the write lock first,
    # waiting for another writer (another request, the worker, the CLI) through the busy
    # timeout, so it never fails with "database is locked" after it has read. One marked
    # DEFERRED (a GET's request, the health check, a streamed export) starts with BEGIN
    # and takes no lock until it writes; the web app runs such a request again as a
    # writer when that write finds the lock taken (`app.main.DatabaseTurns`).
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        deferred = connection.get_execution_options().get(DEFERRED, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def session_scope(engine: Engine, *, deferred: bool = False) -> Iterator[Session]:
    """One unit of work: committed when the block ends without error, else rolled back.

    `deferred`: on SQLite, begin without the write lock (see DEFERRED); elsewhere no-op.
    """
    if deferred and engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{DEFERRED: True})
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            # Detach first: a rollback would expire every loaded object, and the error
            # page that follows still shows who is signed in.
            session.expunge_all()
            session.rollback()
            raise
