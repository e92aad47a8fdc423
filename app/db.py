"""The database engine and the per-request session."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str, **kwargs: Any) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        # SQLite needs its own setup: the file's directory, the pragmas, and
        # transactions that SQLAlchemy controls (so SAVEPOINT works).
        return _sqlite_engine(url, **kwargs)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        from pathlib import Path

        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}
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

    # SQLite has one writer at a time. Within this process, transactions take turns
    # on the engine's single pooled connection (waiting in the pool's queue, and given
    # back on commit, rollback or close, even when a request is cut short). Each turn
    # starts with BEGIN IMMEDIATE, so a transaction that reads and then writes never
    # fails with "database is locked" because another process (the CLI, say) wrote
    # first: it waits for it through the busy timeout instead. Connections marked
    # read_only (the health check) do not take the write lock.
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends without error, else rolled back."""
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
