"""Worker tests work on committed data: a database of their own per backend, and a
queue per test (the default storage beside the database, or Redis)."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session

import tests.worker.tasks_for_tests  # noqa: F401  (the tasks below exist in this process)
from app import migrate
from app.db import make_engine, session_scope
from app.jobs.models import Job
from app.settings import Settings
from tests.databases import BACKENDS, drop_postgres_database, fresh_database_url

REDIS_URL = os.environ.get("TELOS_TEST_REDIS_URL", "")
QUEUES = ["own-database", "redis"]


@pytest.fixture(scope="module", params=BACKENDS)
def jobs_database(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"telos_jobs_{os.getpid()}"
    url = fresh_database_url(request.param, tmp_path_factory.mktemp("jobs"), name)
    migrate.upgrade(url)
    yield url
    if request.param == "postgresql":
        drop_postgres_database(name)


@pytest.fixture(params=QUEUES)
def queue_url(request: pytest.FixtureRequest) -> str:
    if request.param == "own-database":
        return ""
    if not REDIS_URL:
        if os.environ.get("TELOS_REQUIRE_REDIS"):
            pytest.fail("TELOS_REQUIRE_REDIS is set but TELOS_TEST_REDIS_URL is not",
                        pytrace=False)
        pytest.skip("set TELOS_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) for Redis")
    return REDIS_URL


@pytest.fixture
def job_settings(tmp_path: Path, jobs_database: str, queue_url: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=jobs_database, queue_url=queue_url,
                    queue_name=f"test-{uuid.uuid4().hex[:12]}",
                    secret_key="test-secret-key-that-is-long-enough")


@pytest.fixture
def job_engine(job_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(job_settings.database_url)
    with session_scope(engine) as session:
        session.execute(delete(Job))
    yield engine
    engine.dispose()


def job_row(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job
