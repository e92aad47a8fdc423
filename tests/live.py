"""The real server in a subprocess, as `make run` starts it: `telos db upgrade`,
`telos journeys load`, `telos serve --with-worker` (the web server and a job worker)."""

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import make_url

from app.settings import ROOT

TELOS = ROOT / ".venv" / "bin" / "telos"
SECRET_KEY = "live-test-secret-key-that-is-long-enough"
START_TIMEOUT_SECONDS = 90.0  # a wait for readiness, generous for a loaded machine
STOP_TIMEOUT_SECONDS = 10.0
PORT_ATTEMPTS = 3


class ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving_in_thread(app: Any) -> Iterator[int]:
    """The app served by uvicorn in a thread of this process, for as long as the block
    runs; yields the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)

class LiveServer:
    """`with LiveServer(url, tmp) as server:` serves the app at `server.url` inside the block."""

    def __init__(self, database_url: str, directory: Path, *, base_url: bool = True) -> None:
        self.database_url = database_url
        # Without TELOS_BASE_URL, `telos serve` derives the links' address from its port.
        self.set_base_url = base_url
        self.directory = directory
        self.var_dir = directory / "var"
        self._use_port(free_port())
        self.process: subprocess.Popen[bytes] | None = None

    def _use_port(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = self.directory / f"server-{port}.log"

    @property
    def outbox(self) -> Path:
        return self.var_dir / "outbox"

    def environment(self) -> dict[str, str]:
        # The developer's own TELOS_* settings (SMTP, production mode...) must not leak in.
        inherited = {key: value for key, value in os.environ.items()
                     if not key.startswith("TELOS_")}
        return {
            **inherited,
            "TELOS_DATABASE_URL": self.database_url,
            "TELOS_VAR_DIR": str(self.var_dir),
            "TELOS_SECRET_KEY": SECRET_KEY,
            # The browser plays a proxy on this machine: each test's pages carry an
            # X-Forwarded-For of their own, so rate limits count per test.
            "TELOS_FORWARDED_ALLOW_IPS": "127.0.0.1",
            **({"TELOS_BASE_URL": self.url} if self.set_base_url else {}),
        }

    def telos(self, *arguments: str, **environment: str) -> "subprocess.CompletedProcess[str]":
        """Run a `telos` command against this server's database and settings."""
        return subprocess.run(
            [str(TELOS), *arguments], env={**self.environment(), **environment},
            cwd=self.directory, capture_output=True, text=True, timeout=120, check=True,
        )

    def start(self) -> "LiveServer":
        self._upgrade()
        attempts_left = PORT_ATTEMPTS
        while True:
            try:
                self._serve()
                return self
            except ServerDidNotStart:
                attempts_left -= 1
                # The free port can be taken by someone else before the server binds it.
                if not attempts_left or "address already in use" not in self.output():
                    raise
                self._use_port(free_port())

    def _serve(self) -> None:
        with self.log.open("wb") as log:
            # Its own process group, so kill() reaches anything it may have spawned.
            self.process = subprocess.Popen(
                [str(TELOS), "serve", "--with-worker", "--port", str(self.port)],
                env=self.environment(), cwd=self.directory, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.kill()
            raise

    def _upgrade(self) -> None:
        """What `make run` does before serving: migrate, then load the content."""
        for command in (["db", "upgrade"], ["journeys", "load"]):
            # cwd is the temp directory so that a developer's .env is not read.
            result = subprocess.run(
                [str(TELOS), *command], env=self.environment(), cwd=self.directory,
                capture_output=True, text=True, timeout=120, check=False,
            )
            if result.returncode != 0:
                raise ServerDidNotStart(
                    f"`telos {' '.join(command)}` exited with {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}"
                )

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerDidNotStart(
                    f"`telos serve` exited with {self.process.returncode}:\n{self.output()}"
                )
            if self._healthy():
                return
            time.sleep(0.05)
        raise ServerDidNotStart(
            f"`telos serve` did not answer GET /healthz with 200 within "
            f"{START_TIMEOUT_SECONDS:.0f} s:\n{self.output()}"
        )

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def output(self) -> str:
        """What the server has written to stdout and stderr so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def worker_pids(self) -> list[int]:
        """The `telos worker` processes that `telos serve --with-worker` runs as children."""
        assert self.process is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rpartition(")")[2].split()[1])
                command = (stat.parent / "cmdline").read_bytes().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue  # a process that ended while being looked at
            if parent == self.process.pid and b"worker" in command:
                found.append(int(stat.parent.name))
        return found

    def worker_pid(self) -> int:
        found = self.worker_pids()
        assert len(found) == 1, (f"expected one worker child of the server, found {found}:\n"
                                 f"{self.output()[-3000:]}")
        return found[0]

    @contextmanager
    def worker_paused(self) -> Iterator[None]:
        """The server's worker stopped (SIGSTOP) inside the block, as if busy elsewhere, and
        going on after. Never while it holds SQLite's write lock (a sweep, a job's commit):
        a worker frozen there would hold every writer up, which no real worker does."""
        pid = self.worker_pid()
        for _ in range(200):
            os.kill(pid, signal.SIGSTOP)
            if not self._sqlite_locked():
                break
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.05)
        else:
            raise AssertionError("the worker kept holding the database's write lock")
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def _sqlite_locked(self) -> bool:
        database = make_url(self.database_url).database
        if not database:
            return False
        path = Path(database)
        for file in (path, path.with_name(path.stem + "-queue.db")):
            if not file.exists():
                continue
            connection = sqlite3.connect(file, timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
            except sqlite3.OperationalError:
                return True
            finally:
                connection.close()
        return False

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no chance to finish anything in flight."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited in time."""
        try:
            self._signal(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, number: signal.Signals) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, number)
        except ProcessLookupError:
            return
        process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
