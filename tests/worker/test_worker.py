"""The real worker (Huey's consumer, in this process or as `telos worker`) on committed
jobs, on SQLite and PostgreSQL, with the queue in the database or in Redis."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app import jobs
from app.clock import now
from app.db import session_scope
from app.jobs.models import Job, JobStatus
from app.jobs.queue import attach
from app.jobs.worker import BackgroundWorker
from app.settings import ROOT, Settings
from tests.worker.conftest import job_row

WAIT_SECONDS = 30.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {WAIT_SECONDS:.0f} s for {what}")


def ask(engine: Engine, settings: Settings, name: str, **payload: object) -> int:
    """What a request does: enqueue inside its transaction, hand over after the commit."""
    attach(settings, engine)
    with session_scope(engine) as session:
        job = jobs.enqueue(session, name, **payload)
        assert job is not None and job.id is not None
        return job.id


def status_of(engine: Engine, job_id: int) -> JobStatus:
    return job_row(engine, job_id).status


def test_a_job_runs_once_on_the_worker(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    evidence = tmp_path / "touched"
    with BackgroundWorker(job_settings, job_engine):
        job_id = ask(job_engine, job_settings, "tests.touch", path=str(evidence))
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.done, "the job to run")
    job = job_row(job_engine, job_id)
    assert (job.attempts, job.result) == (1, {"wrote": str(evidence)})
    assert evidence.read_text() == f"job {job_id} attempt 1"


def test_a_job_asked_for_through_an_engine_with_options_is_handed_over(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    """A unit of work on `engine.execution_options(...)` (read-only, deferred) binds its
    session to a proxy of the engine; its jobs still reach the worker at once, not at
    the sweep two minutes later."""
    evidence = tmp_path / "touched"
    attach(job_settings, job_engine)
    with BackgroundWorker(job_settings, job_engine):
        with session_scope(job_engine.execution_options(telos_test=True)) as session:
            job = jobs.enqueue(session, "tests.touch", path=str(evidence))
            assert job is not None and job.id is not None
            job_id = job.id
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.done, "the job to run")


def test_a_job_asked_for_in_a_rolled_back_transaction_never_runs(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    evidence, later = tmp_path / "never", tmp_path / "later"
    attach(job_settings, job_engine)
    with BackgroundWorker(job_settings, job_engine):
        with pytest.raises(RuntimeError), session_scope(job_engine) as session:
            jobs.enqueue(session, "tests.touch", path=str(evidence))
            raise RuntimeError("the request fails after asking")
        # A job asked for afterwards runs, so the worker was there to run the first one.
        after = ask(job_engine, job_settings, "tests.touch", path=str(later))
        wait_until(lambda: status_of(job_engine, after) == JobStatus.done, "the later job")
    assert not evidence.exists()
    with Session(job_engine) as session:
        assert [job.id for job in session.exec(select(Job))] == [after]


def test_a_failed_first_attempt_is_retried_and_succeeds(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    evidence = tmp_path / "second"
    with BackgroundWorker(job_settings, job_engine):
        job_id = ask(job_engine, job_settings, "tests.fail_once", path=str(evidence))
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.done, "the retry")
    job = job_row(job_engine, job_id)
    assert job.attempts == 2 and job.result == {"attempt": 2}
    assert evidence.read_text() == "attempt 2"


def test_a_job_that_keeps_failing_ends_failed_with_its_error_and_can_be_retried(
    job_engine: Engine, job_settings: Settings
) -> None:
    with BackgroundWorker(job_settings, job_engine):
        job_id = ask(job_engine, job_settings, "tests.always_fails")
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.failed, "the failure")
        job = job_row(job_engine, job_id)
        assert job.attempts == 2 and "ValueError: attempt 2 fails too" in job.error
        with session_scope(job_engine) as session:
            jobs.service.retry(session, session.get(Job, job_id) or Job())
        wait_until(lambda: job_row(job_engine, job_id).attempts == 2
                   and status_of(job_engine, job_id) == JobStatus.failed
                   and job_row(job_engine, job_id).finished_at is not None
                   and job_row(job_engine, job_id).finished_at > job.finished_at,  # type: ignore[operator]
                   "the retried job to fail again")


def test_a_job_committed_but_never_handed_to_the_queue_is_found_by_the_sweep(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    """The web process died between its commit and the hand-over."""
    evidence = tmp_path / "found"
    with session_scope(job_engine) as session:  # no queue attached: nothing handed over
        lost = Job(name="tests.touch", payload={"path": str(evidence)},
                   run_after=now() - timedelta(minutes=5), sent_at=now() - timedelta(minutes=5))
        session.add(lost)
        session.flush()
        job_id = lost.id or 0
    with BackgroundWorker(job_settings, job_engine):
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.done, "the sweep")
    assert evidence.exists()


def test_a_job_delivered_twice_runs_once(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    evidence = tmp_path / "once"
    with BackgroundWorker(job_settings, job_engine) as worker:
        job_id = ask(job_engine, job_settings, "tests.touch", path=str(evidence))
        worker.queue.send(job_id, "tests.touch", 0.0)
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.done, "the job")
        time.sleep(0.5)  # the duplicate message has been taken by now
    assert job_row(job_engine, job_id).attempts == 1


def test_a_schedule_firing_on_two_workers_asks_for_one_job(
    job_engine: Engine, job_settings: Settings
) -> None:
    queue = attach(job_settings, job_engine)
    queue.huey  # noqa: B018  (builds the schedules)
    start = queue._starter("jobs.housekeeping")
    start(), start()
    with Session(job_engine) as session:
        assert len(session.exec(select(Job).where(Job.name == "jobs.housekeeping")).all()) == 1


def _worker_process(settings: Settings, log: Path) -> "subprocess.Popen[bytes]":
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("TELOS_")}
    environment.update({
        "TELOS_DATABASE_URL": settings.database_url, "TELOS_QUEUE_URL": settings.queue_url,
        "TELOS_QUEUE_NAME": settings.queue_name, "TELOS_VAR_DIR": str(settings.var_dir),
        "TELOS_SECRET_KEY": settings.secret_key,
    })
    # `telos worker`, with this module's tasks known to it as well.
    program = "import tests.worker.tasks_for_tests; from app.cli import main; main()"
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", program, "worker", "--threads", "1"],
                                env=environment, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_the_job_of_a_sigkilled_worker_runs_after_a_worker_restarts(
    job_engine: Engine, job_settings: Settings, tmp_path: Path
) -> None:
    gate, evidence, log = tmp_path / "gate", tmp_path / "done", tmp_path / "worker.log"
    job_id = ask(job_engine, job_settings, "tests.wait_for_gate", gate=str(gate),
                 path=str(evidence))
    first = _worker_process(job_settings, log)
    try:
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.running,
                   "the first worker to start the job")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    assert status_of(job_engine, job_id) == JobStatus.running  # as the dead worker left it
    gate.touch()
    second = _worker_process(job_settings, log)
    try:
        wait_until(lambda: status_of(job_engine, job_id) == JobStatus.done,
                   f"the restarted worker to run it; its log:\n{log.read_text()}")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    job = job_row(job_engine, job_id)
    assert job.attempts == 2 and evidence.read_text() == "attempt 2"
