"""The Huey queue: its storage from the settings, the one task it carries ("run job N"),
the sweep, and the schedules the domains declared."""

import logging
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import Any

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.clock import now
from app.db import session_scope
from app.jobs import runner, service
from app.jobs.registry import SCHEDULES, spec
from app.settings import Settings

log = logging.getLogger(__name__)


def storage_description(settings: Settings) -> str:
    url = queue_url(settings)
    return make_url(url).render_as_string(hide_password=True) if "://" in url else url


def queue_url(settings: Settings) -> str:
    """TELOS_QUEUE_URL, or by default the app's own database: a SQLite file beside a
    SQLite database, or the same PostgreSQL database (tables huey_*)."""
    if settings.queue_url:
        return settings.queue_url
    database = make_url(settings.database_url)
    if database.get_backend_name() == "sqlite":
        path = Path(database.database or settings.var_dir / "telos.db")
        return f"sqlite:///{path.with_name(path.stem + '-queue.db')}"
    return settings.database_url


def make_huey(settings: Settings) -> Huey:
    url = make_url(queue_url(settings))
    options: dict[str, Any] = {"name": settings.queue_name, "results": False, "utc": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        filename = Path(url.database or "queue.db")
        filename.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(filename=str(filename), **options)
    if backend == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(dsn=dsn, **options)
    if backend in ("redis", "rediss"):
        return RedisHuey(url=url.render_as_string(hide_password=False), **options)
    raise ValueError(f"TELOS_QUEUE_URL: no queue storage for {backend!r} "
                     "(use sqlite:///FILE, postgresql://… or redis://…)")


class Queue:
    """Jobs of one database, handed to Huey; also builds the worker's consumer."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def sessions(self) -> AbstractContextManager[Session]:
        return session_scope(self.engine)

    @cached_property
    def huey(self) -> Huey:
        huey = make_huey(self.settings)

        @huey.task(name="telos.run_job")
        def run_job(job_id: int) -> None:
            runner.run_job(job_id, sessions=self.sessions, settings=self.settings,
                           worker=service.worker_name())

        @huey.periodic_task(crontab(), name="telos.sweep")
        def sweep() -> None:
            self.sweep()

        for schedule in SCHEDULES.values():
            huey.periodic_task(schedule.due, name=f"telos.schedule.{schedule.name}")(
                self._starter(schedule.name))
        self._run_job = run_job
        return huey

    def _starter(self, name: str) -> Any:
        def start() -> None:
            # Every worker's scheduler fires; the key lets one job through per minute.
            with self.sessions() as session:
                service.enqueue(session, name, key=f"{name}@{now():%Y-%m-%dT%H:%M}")
        return start

    def send(self, job_id: int, name: str, delay: float) -> None:
        task = spec(name)
        huey = self.huey
        message = self._run_job.s(job_id, retries=task.attempts - 1,
                                  retry_delay=task.retry_delay, retry_backoff=task.backoff,
                                  delay=delay or None)
        huey.enqueue(message)

    def sweep(self) -> int:
        """Hand over again what a crash or an outage lost; returns how many."""
        with self.sessions() as session:
            lost = service.recover(session)
        for job_id, name, delay in lost:
            self.send(job_id, name, delay)
        if lost:
            log.info("handed %d lost job(s) to the queue again", len(lost))
        return len(lost)

    def consumer(self, *, threads: int, periodic: bool = True) -> Consumer:
        return self.huey.create_consumer(workers=threads, worker_type="thread",
                                         periodic=periodic, initial_delay=0.05,
                                         max_delay=1.0, backoff=1.5)


def attach(settings: Settings, engine: Engine) -> Queue:
    """The queue for `engine`; jobs committed through it are handed over on commit."""
    queue = Queue(settings, engine)
    service.attach(engine, queue)
    return queue
