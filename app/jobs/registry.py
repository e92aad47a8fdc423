"""The tasks each domain declares, by name: what runs, how often it may be tried."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from app.settings import Settings


class CannotSucceed(Exception):
    """Raised by a task when trying again cannot help (a message that cannot be built):
    the job is failed at once, with this message as its error, for an admin to see."""


@dataclass
class JobContext:
    """What a running task gets: the settings, the database, and which job it is.

    A task opens its own transactions (`with ctx.transaction() as session:`), so long
    work never holds one open, and it must be safe to run again: a worker that dies
    after the work and before the job is marked done leaves it to be run once more.
    """

    settings: Settings
    sessions: Callable[[], AbstractContextManager[Session]]
    job_id: int
    attempt: int
    # A task may replace its payload once done, to drop what must not be kept (the
    # body of a mail that carried a reset link, say).
    payload_after: dict[str, Any] | None = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session


TaskFunction = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: TaskFunction
    attempts: int
    # The first retry waits retry_delay seconds, each next one `backoff` times longer.
    retry_delay: float
    backoff: float
    # How long one attempt may run before it is taken as lost and given to another worker.
    lease: timedelta
    # What the admin's job list shows of the payload (never secrets such as a reset link).
    describe: Callable[[dict[str, Any]], str]

    def delay_after(self, attempt: int) -> float:
        return self.retry_delay * self.backoff ** max(attempt - 1, 0)


@dataclass(frozen=True)
class Schedule:
    """A periodic task: at the minutes `due(datetime)` accepts, one job of `name`."""

    name: str
    due: Callable[[Any], bool]


TASKS: dict[str, TaskSpec] = {}
SCHEDULES: dict[str, Schedule] = {}


def _keys(payload: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(payload.items()))


def task(
    name: str, *, attempts: int = 5, retry_delay: float = 10.0, backoff: float = 3.0,
    lease: timedelta = timedelta(minutes=10),
    describe: Callable[[dict[str, Any]], str] = _keys,
) -> Callable[[TaskFunction], TaskFunction]:
    """Declare `func(ctx, **payload)` as the task `name`; what it returns is kept as the
    job's result (a small dict: counts, a file name)."""

    def register(func: TaskFunction) -> TaskFunction:
        if name in TASKS and TASKS[name].func is not func:
            raise ValueError(f"two tasks are called {name!r}")
        TASKS[name] = TaskSpec(name=name, func=func, attempts=attempts,
                               retry_delay=retry_delay, backoff=backoff, lease=lease,
                               describe=describe)
        return func

    return register


def periodic(
    name: str, due: Callable[[Any], bool], **options: Any
) -> Callable[[TaskFunction], TaskFunction]:
    """A task that also runs on a schedule: `due` is a huey `crontab(...)`."""

    def register(func: TaskFunction) -> TaskFunction:
        task(name, **options)(func)
        SCHEDULES[name] = Schedule(name=name, due=due)
        return func

    return register


def spec(name: str) -> TaskSpec:
    if name not in TASKS:
        # A command that asks for jobs (`telos demo`, say) may not have loaded every
        # domain's tasks: the CLI imports them only where used, to start at once.
        import app.jobs.tasks  # noqa: F401
    try:
        return TASKS[name]
    except KeyError:
        raise LookupError(f"no task is called {name!r}; is its module in app/jobs/tasks.py?")\
            from None
