"""`telos worker`: a Huey consumer running this app's jobs and schedules."""

import logging
import signal
from typing import Any

from huey.consumer import Consumer
from sqlalchemy import Engine

from app.jobs import tasks  # noqa: F401  (registers every domain's tasks)
from app.jobs.queue import Queue, attach
from app.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, engine: Engine, *, threads: int, periodic: bool) -> None:
    """Work until SIGINT or SIGTERM; first hand over whatever a crash left behind."""
    queue = attach(settings, engine)
    queue.sweep()
    queue.consumer(threads=threads, periodic=periodic).run()


class BackgroundWorker:
    """The same worker inside this process (tests): `start()`, then `stop()`."""

    def __init__(self, settings: Settings, engine: Engine, *, threads: int = 2,
                 periodic: bool = False) -> None:
        self.queue: Queue = attach(settings, engine)
        self.threads = threads
        self.periodic = periodic
        self._consumer: Consumer | None = None

    def start(self) -> "BackgroundWorker":
        self.queue.sweep()
        consumer = self.queue.consumer(threads=self.threads, periodic=self.periodic)
        # The consumer installs signal handlers for a process of its own; keep ours.
        saved: dict[int, Any] = {number: signal.getsignal(number)
                                 for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer.start()
        for number, handler in saved.items():
            signal.signal(number, handler)
        self._consumer = consumer
        return self

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        self.queue.huey.storage.close()

    def __enter__(self) -> "BackgroundWorker":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


