"""What the job system holds: e-mail jobs per second through real workers, per queue
storage, against the same task code run inline in one process (the baseline, measured in
the same run). Each job is a real "mail.send" writing an .eml file to the outbox.

    .venv/bin/python -m bench.jobs [--jobs 500] [--workers 1,2] [--postgres URL] [--redis URL]

Workers are `telos worker --threads 4` processes. The database is a fresh SQLite file, or a
fresh PostgreSQL database beside --postgres; the queue lives in that database (the
default) or in Redis.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from app import mail, migrate
from app.db import make_engine, session_scope
from app.jobs import runner, service
from app.jobs import tasks as _tasks  # noqa: F401
from app.jobs.models import Job, JobStatus
from app.jobs.queue import attach
from app.settings import ROOT, Settings
from tests.databases import drop_postgres_database, fresh_postgres_database


def ask(settings: Settings, count: int, *, hand_over: bool) -> float:
    engine = make_engine(settings.database_url)
    if hand_over:
        attach(settings, engine)
    started = time.perf_counter()
    for number in range(count):
        with session_scope(engine) as session:
            mail.queue(session, [mail.Mail(to=f"member{number}@example.org",
                                           subject=f"Bench message {number}", body="Hello.")])
    engine.dispose()
    return time.perf_counter() - started


def done(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        number = session.exec(select(func.count()).select_from(Job)
                              .where(Job.status == JobStatus.done)).one()
    engine.dispose()
    return int(number)


def inline(settings: Settings, count: int) -> float:
    """The baseline: the same jobs claimed and run one after another in this process."""
    ask(settings, count, hand_over=False)
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    with Session(engine) as session:
        ids = service.due_ids(session)
    for job_id in ids:
        runner.run_job(job_id, sessions=lambda: session_scope(engine), settings=settings,
                       worker="bench")
    engine.dispose()
    return time.perf_counter() - started


@contextmanager
def workers(settings: Settings, number: int, log: Path) -> Iterator[None]:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("TELOS_")}
    environment.update({"TELOS_DATABASE_URL": settings.database_url,
                        "TELOS_QUEUE_URL": settings.queue_url,
                        "TELOS_QUEUE_NAME": settings.queue_name,
                        "TELOS_VAR_DIR": str(settings.var_dir),
                        "TELOS_SECRET_KEY": settings.secret_key})
    processes = [subprocess.Popen([str(ROOT / ".venv/bin/telos"), "worker", "--threads", "4",
                                   "--no-periodic"], env=environment, cwd=ROOT,
                                  stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                  start_new_session=True) for _ in range(number)]
    time.sleep(4.0)  # start-up: imports and the first sweep, not part of the figure
    try:
        yield
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def through_workers(settings: Settings, count: int, number: int, log: Path) -> tuple[float, float]:
    """Seconds to ask for `count` jobs (one transaction each, handed to the queue), and
    seconds the workers took from the first job started to the last one done."""
    asking = ask(settings, count, hand_over=True)
    with workers(settings, number, log):
        while done(settings) < count:
            time.sleep(0.02)
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        first, last = session.exec(
            select(func.min(Job.started_at), func.max(Job.finished_at))).one()
    engine.dispose()
    return asking, (last - first).total_seconds()


def fresh(kind: str, directory: Path, postgres: str, redis: str) -> tuple[Settings, str]:
    name = f"telos_bench_jobs_{uuid.uuid4().hex[:8]}"
    if kind.startswith("postgresql"):
        url = fresh_postgres_database(postgres, name)
    else:
        url = f"sqlite:///{directory / name}.db"
    migrate.upgrade(url)
    settings = Settings(var_dir=directory / name, database_url=url, secret_key="b" * 32,
                        queue_url=redis if kind.endswith("redis") else "",
                        queue_name=name)
    return settings, name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--postgres", default=os.environ.get("TELOS_TEST_DATABASE_URL", ""))
    parser.add_argument("--redis", default=os.environ.get("TELOS_TEST_REDIS_URL", ""))
    options = parser.parse_args()
    kinds = ["sqlite", *(["sqlite+redis"] if options.redis else []),
             *(["postgresql", "postgresql+redis"] if options.postgres and options.redis
               else ["postgresql"] if options.postgres else [])]
    print(f"{options.jobs} e-mail jobs; workers run 4 threads each\n")
    print("| database + queue | how | jobs/s | × inline | asked/s |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for kind in kinds:
            settings, name = fresh(kind, directory, options.postgres, options.redis)
            base = options.jobs / inline(settings, options.jobs)
            print(f"| {kind} | inline, one process (baseline) | {base:,.0f} | 1.00 | |",
                  flush=True)
            if kind.startswith("postgresql"):
                drop_postgres_database(name)
            for number in (int(n) for n in options.workers.split(",")):
                settings, name = fresh(kind, directory, options.postgres, options.redis)
                asking, seconds = through_workers(settings, options.jobs, number,
                                                  directory / "workers.log")
                rate = options.jobs / seconds
                print(f"| {kind} | {number} worker process(es) × 4 threads | {rate:,.0f} |"
                      f" {rate / base:.2f} | {options.jobs / asking:,.0f} |", flush=True)
                if kind.startswith("postgresql"):
                    drop_postgres_database(name)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
