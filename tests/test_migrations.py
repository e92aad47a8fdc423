"""The migrations build exactly the schema the models describe, and can be undone."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401  (the whole schema)
from app import migrate
from app.db import make_engine
from tests.databases import BACKENDS, drop_postgres_database, fresh_database_url


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    name = f"telos_migrations_{os.getpid()}"
    yield fresh_database_url(request.param, tmp_path, name)
    if request.param == "postgresql":
        drop_postgres_database(name)


def differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert differences(empty_database) == []


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert tables(empty_database) == set(SQLModel.metadata.tables)
    migrate.downgrade(empty_database, "base")
    assert tables(empty_database) == set()
    migrate.upgrade(empty_database)
    assert differences(empty_database) == []


def test_state_says_when_the_database_is_behind(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        behind = migrate.state(engine, empty_database)
        assert behind.behind and behind.current is None
        assert "run `telos db upgrade`" in behind.advice(empty_database)
        migrate.upgrade(empty_database)
        assert not migrate.state(engine, empty_database).behind
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/pragmas.db")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA busy_timeout").scalar() == 5000
            assert pragma("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
