"""The `telos` command."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

# Only what `telos --help` needs loads here; each command imports the rest (the database,
# the matcher, the statistics) when it runs, so the command starts at once.
from app.accounts.roles import Role
from app.journeys.cli import journeys_cli
from app.matching.cli import match_cli
from app.research.cli import research_cli
from app.surveys.cli import surveys_cli

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from app.settings import Settings

cli = typer.Typer(help="Telos: purpose journeys, surveys and mentor matching.",
                  no_args_is_help=True)
db_cli = typer.Typer(help="The database schema.", no_args_is_help=True)
users_cli = typer.Typer(help="Accounts.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(users_cli, name="users")
cli.add_typer(journeys_cli, name="journeys")
cli.add_typer(surveys_cli, name="surveys")
cli.add_typer(match_cli, name="match")
cli.add_typer(research_cli, name="research")

console = Console()
errors = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


@contextmanager
def database(*, queue: bool = True, plain: bool = False
             ) -> Iterator[tuple["Settings", "Engine"]]:
    """`plain`: an engine without app.db's setup (and without loading the ORM), enough
    to read a row or two."""
    from sqlalchemy.exc import OperationalError

    from app.settings import Settings

    settings = Settings()
    engine = _plain_engine(settings.database_url) if plain else _engine(settings.database_url)
    if queue:
        from app.jobs.queue import attach as attach_queue  # Huey loads only when used

        attach_queue(settings, engine)  # jobs asked for here reach the workers at once
    try:
        yield settings, engine
    except OperationalError as error:
        raise fail(f"cannot use the database {settings.database_url}: {error.orig}") from None
    finally:
        engine.dispose()


def _engine(url: str) -> "Engine":
    from app.db import make_engine

    return make_engine(url)


def _plain_engine(url: str) -> "Engine":
    from sqlalchemy import create_engine

    return create_engine(url)


@contextmanager
def transaction() -> Iterator["Session"]:
    from app.db import session_scope

    with database() as (_settings, engine), session_scope(engine) as session:
        yield session


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the database has not had yet."""
    from app import migrate

    with database() as (settings, _engine):
        migrate.upgrade(settings.database_url)
    console.print("The database is up to date.")


@db_cli.command("check")
def db_check() -> None:
    """Say whether the database is behind the migrations (exit 1 if it is)."""
    from app import migrate

    with database(queue=False, plain=True) as (settings, engine):
        current = migrate.state(engine, settings.database_url)
    if current.behind:
        raise fail(current.advice(settings.database_url))
    console.print(f"The database is up to date (revision {current.head}).")


@cli.command("demo")
def load_demo(
    if_empty: Annotated[bool, typer.Option(help="Only load into a database with no users.")]
    = False,
) -> None:
    """Create the demo accounts (safe to run again: it only adds what is missing)."""
    from app import demo

    with transaction() as session:
        demo.move_old_demo_accounts(session)
        if if_empty and not demo.is_empty(session):
            console.print("The database already has users; demo data not loaded.")
            return
        created = demo.load(session)
    console.print(f"Demo data loaded ({len(created)} new accounts).")


def _print_demo_logins(settings: "Settings", engine: "Engine") -> None:
    from rich.table import Table
    from sqlmodel import Session

    from app import demo

    with Session(engine) as session:
        logins = demo.present(session)
    if not logins:
        return
    table = Table(title=f"Demo logins (password for all: {demo.DEMO_PASSWORD})")
    table.add_column("role")
    table.add_column("e-mail")
    for login in logins:
        table.add_row(login.role.value, login.email)
    console.print(table)


@cli.command("worker")
def worker(
    threads: Annotated[int, typer.Option(help="Jobs run at once in this process.")] = 0,
    periodic: Annotated[bool, typer.Option(help="Also start the scheduled work.")] = True,
) -> None:
    """Run background jobs (e-mail, match runs, exports, reminders) until stopped."""
    import logging

    from app import migrate
    from app.jobs import worker as jobs_worker
    from app.jobs.queue import storage_description

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    with database() as (settings, engine):
        current = migrate.state(engine, settings.database_url)
        if current.behind:
            raise fail(current.advice(settings.database_url))
        console.print(f"Telos worker: queue {storage_description(settings)}, "
                      f"{threads or settings.worker_threads} thread(s)", highlight=False)
        jobs_worker.run(settings, engine, threads=threads or settings.worker_threads,
                        periodic=periodic)


def _start_worker() -> "subprocess.Popen[bytes]":
    """`telos worker` as a child that stops with this process, even on SIGKILL."""
    import signal

    def die_with_parent() -> None:  # Linux: the kernel sends SIGTERM when we go
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
        except OSError:
            pass

    return subprocess.Popen([sys.executable, "-m", "app", "worker"],
                            preexec_fn=die_with_parent)


class _WorkerChild:
    """`telos worker` beside the server, started again whenever it stops on its own (the
    database locked past its busy timeout while it started, an out-of-memory kill):
    a server without its worker would leave every job waiting."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.process = _start_worker()
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    def _watch(self) -> None:
        import time

        pause = 1.0
        while True:
            started = time.monotonic()
            code = self.process.wait()
            if time.monotonic() - started > 60:
                pause = 1.0  # it ran a good while: this is a new failure, not a loop
            errors.print(f"[bold yellow]warning:[/] the worker stopped (exit code {code}); "
                         f"starting it again in {pause:.0f} s", highlight=False)
            if self._stopping.wait(pause):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.process = _start_worker()
            pause = min(pause * 2, 30.0)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _own_address(settings: "Settings", host: str, port: int) -> str:
    """The address e-mailed links use: TELOS_BASE_URL, or else where this server listens
    (handed on through the environment to the web processes and the worker)."""
    if "base_url" in settings.model_fields_set:
        return settings.base_url
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    address = f"http://{shown}:{port}"
    os.environ["TELOS_BASE_URL"] = address
    if settings.env == "production":
        errors.print(f"[bold yellow]warning:[/] TELOS_BASE_URL is not set; links in e-mail "
                     f"will point to {address}. Set it to the address people use.",
                     highlight=False)
    return address


def proxy_options(settings: "Settings") -> dict[str, Any]:
    """Forwarded headers are believed only from the proxies TELOS_FORWARDED_ALLOW_IPS names;
    believed from anyone on the host, they let a client pick the address rate limits count."""
    allowed = settings.forwarded_allow_ips.strip()
    return {"proxy_headers": bool(allowed), "forwarded_allow_ips": allowed or None}


@cli.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: bool = False,
    workers: Annotated[int, typer.Option(help="Web processes (PostgreSQL; SQLite: 1).")] = 1,
    with_worker: Annotated[bool, typer.Option(
        help="Also run `telos worker` beside the server (what `make run` does).")] = False,
) -> None:
    """Serve the app (refuses to start on a database that is behind the migrations)."""
    import uvicorn

    from app import migrate
    from app.settings import ConfigurationError, Settings

    settings = Settings()
    try:
        settings.resolve_secret_key()
    except ConfigurationError as error:
        raise fail(str(error)) from None
    with database() as (settings, engine):
        current = migrate.state(engine, settings.database_url)
        if current.behind:
            raise fail(current.advice(settings.database_url))
        address = _own_address(settings, host, port)
        console.print(f"Telos is running at [bold]{address}[/]")
        _print_demo_logins(settings, engine)
    child = _WorkerChild() if with_worker else None
    try:
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, reload=reload,
                    workers=workers, **proxy_options(settings))
    finally:
        if child is not None:
            child.stop()


@users_cli.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="The new account's e-mail address.")],
    role: Annotated[list[Role], typer.Option(help="A role to give; repeat for several.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                          envvar="TELOS_NEW_USER_PASSWORD", help="Asked for if not given.")
    ] = "",
) -> None:
    """Create an account with the given roles (the first admin comes from here)."""
    from app.accounts import passwords
    from app.accounts import service as accounts
    from app.forms import email_address, typed_text_problem

    try:
        address = email_address(email)
    except ValueError as error:
        raise fail(str(error)) from None
    if name_problem := typed_text_problem(name):
        raise fail(f"--name: {name_problem}")
    problem = passwords.problem(password)
    if problem:
        raise fail(f"password: {problem}")
    with transaction() as session:
        try:
            accounts.create_user(session, email=address, display_name=name or address.split("@")[0],
                                 password=password, roles=role)
        except accounts.EmailTaken as taken:
            raise fail(taken.message) from None
    console.print(f"Created {address} with roles: {', '.join(r.value for r in role)}.")


def main() -> None:
    try:
        cli()
    except Exception as error:
        from app.settings import ConfigurationError  # loaded already if it is one

        if not isinstance(error, ConfigurationError):
            raise
        errors.print(f"error: {error}")
        sys.exit(1)
