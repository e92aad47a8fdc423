"""Fixtures: a migrated database per backend, a rolled-back session per test, the app."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app import migrate
from app.accounts import consent
from app.db import make_engine, session_scope
from app.deps import get_session
from app.journeys import service as journeys
from app.journeys.loader import JOURNEYS_DIR, load_all
from app.main import create_app
from app.settings import Settings
from app.surveys import waves
from app.surveys.definitions import load_battery
from tests.browsing import Browser
from tests.databases import BACKENDS, drop_postgres_database, fresh_database_url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("db")
    name = f"telos_test_{os.getpid()}"
    url = fresh_database_url(request.param, directory, name)
    if request.param == "postgresql":
        request.addfinalizer(lambda: drop_postgres_database(name))
    return url


WALK_JOURNEY = Path(__file__).parent / "fixtures" / "walk.yaml"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated test database, with the survey battery and two journeys loaded."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    battery = load_battery()
    with session_scope(engine) as session:
        consent.store_documents(session)
        waves.store_instruments(session, battery.values())
        journeys.store_versions(session, load_all([JOURNEYS_DIR, WALK_JOURNEY],
                                                  instruments=set(battery)))
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work, commits included, is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def settings(tmp_path: object, database_url: str) -> Settings:
    return Settings(
        var_dir=f"{tmp_path}/var", database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough", base_url="http://testserver",
    )


@pytest.fixture
def app(settings: Settings, db: Session) -> Iterator[FastAPI]:
    app = create_app(settings)

    def test_session(_request: Request) -> Iterator[Session]:  # as get_session is called
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = test_session
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)
