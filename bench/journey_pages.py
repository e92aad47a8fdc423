"""Throughput and latency of a journey step page and of an autosave, under load.

Serves the app (SQLite and one uvicorn worker unless told otherwise), signs a member
in, and drives it with wrk on loopback for a bounded time. The baseline is a minimal page served
by the same process: one raw SQL query rendered through a template, no session,
so the ratios say what the journey machinery costs on top of the framework.

    .venv/bin/python -m bench.journey_pages [--seconds 10] [--connections 32]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--workers 2]

With --database-url the bench makes a database of its own on that server (named
telos_bench_journey_pages; dropped at the end) and measures on it.

Needs wrk (Debian package `wrk`).
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import migrate
from app.accounts import service as accounts
from app.accounts.models import Role
from app.db import make_engine
from app.deps import open_access
from app.journeys import loader
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.main import create_app
from app.surveys import waves
from app.surveys.definitions import load_battery
from app.web import templates

STEP = "high_points"
PASSWORD = "bench member password"
BASELINE_TEMPLATE = templates.env.from_string(
    "<!doctype html><title>Baseline</title><ul>{% for name in names %}<li>{{ name }}</li>"
    "{% endfor %}</ul>"
)


def bench_app() -> FastAPI:
    """The real app plus the baseline page, served by the same process."""
    app = create_app()

    def baseline(request: Request) -> HTMLResponse:
        with request.app.state.engine.connect() as connection:
            names = connection.execute(text("SELECT display_name FROM \"user\" LIMIT 5")).scalars()
            return HTMLResponse(BASELINE_TEMPLATE.render(names=list(names)))

    app.add_api_route("/bench/baseline", baseline, dependencies=[open_access])
    return app


def prepare(url: str) -> None:
    """A member enrolled in the purpose journey with the pre wave already sent."""
    migrate.upgrade(url)
    engine = make_engine(url)
    battery = load_battery()
    with Session(engine) as session:
        waves.store_instruments(session, battery.values())
        journeys.store_versions(session, loader.load_all(instruments=set(battery)))
        user = accounts.create_user(session, email="bench@example.org",
                                    display_name="Bench Member", password=PASSWORD,
                                    roles=[Role.member])
        assert user.id is not None
        enrolment = journeys.enrol(session, user_id=user.id, journey_key="purpose")
        for key in waves.wave_keys(session, enrolment, Wave.pre):
            response = waves.open_response(session, enrolment=enrolment, wave=Wave.pre, key=key)
            instrument = waves.instrument_for(session, response)
            answers = {item.id: instrument.options_of(item)[0].value
                       for item in instrument.items}
            waves.save_draft(session, response=response, answers=answers)
            waves.submit(session, response=response, instrument=instrument)
        journeys.mark_done(session, enrolment=enrolment, step_id="baseline")
        journeys.mark_done(session, enrolment=enrolment, step_id="welcome")
        session.commit()
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: str


def wrk(name: str, url: str, seconds: int, connections: int, script: Path | None) -> Result:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return Result(name, rps, _latency(output, "50%"), _latency(output, "99%"),
                  _errors(output))


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", output)
    assert match, output
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _errors(output: str) -> str:
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return ", ".join(filter(None, [
        f"{non_2xx.group(1)} non-2xx" if non_2xx else "",
        socket_errors.group(1) if socket_errors else "",
    ])) or "none"


def lua_script(directory: Path, method: str, cookie: str, token: str, body: str) -> Path:
    path = directory / f"{method.lower()}.lua"
    path.write_text(
        f'wrk.method = "{method}"\n'
        f'wrk.headers["Cookie"] = "{cookie}"\n'
        f'wrk.headers["X-CSRF-Token"] = "{token}"\n'
        'wrk.headers["HX-Request"] = "true"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.body = "{body}"\n'
    )
    return path


def sign_in(base: str) -> tuple[str, str, str, str]:
    """Log the member in over HTTP; returns cookie header, CSRF token, version, editor."""
    with httpx.Client(base_url=base) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"email": "bench@example.org", "password": PASSWORD,
                                    "csrf_token": token})
        step = client.get(f"/journey/steps/{STEP}").text
        token = re.search(r'"X-CSRF-Token": "(\w+)"', step).group(1)  # type: ignore[union-attr]
        editor = re.search(r'name="editor" value="(\w+)"', step).group(1)  # type: ignore[union-attr]
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return cookie, token, "0", editor


def serve(directory: Path, port: int, database_url: str,
          workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TELOS_VAR_DIR": str(directory), "TELOS_SECRET_KEY": "b" * 40,
           "TELOS_DATABASE_URL": database_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.journey_pages:bench_app", "--factory",
         "--port", str(port), "--log-level", "warning", "--no-access-log",
         "--workers", str(workers)],
        env=env, cwd=Path(__file__).parent.parent,
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


BENCH_DATABASE = "telos_bench_journey_pages"


def own_database(server_url: str, *, drop: bool = False) -> str:
    """A fresh PostgreSQL database for the bench on the server of `server_url`."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        if not drop:
            connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    engine.dispose()
    return make_url(server_url).set(database=BENCH_DATABASE).render_as_string(
        hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", help="a PostgreSQL server to measure on")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        url = (own_database(args.database_url) if args.database_url
               else f"sqlite:///{directory}/bench.db")
        prepare(url)
        port = free_port()
        server = serve(directory, port, url, args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie, token, version, editor = sign_in(base)
            get = lua_script(directory, "GET", cookie, token, "")
            body = (f"csrf_token={token}&version={version}&editor={editor}"
                    "&prompt-alive=A+morning+in+the+garden+with+my+daughter")
            post = lua_script(directory, "POST", cookie, token, body)
            results = [
                wrk("baseline: template + 1 SQL query", f"{base}/bench/baseline",
                    args.seconds, args.connections, None),
                wrk("journey step page (signed in)", f"{base}/journey/steps/{STEP}",
                    args.seconds, args.connections, get),
                wrk("autosave (signed in, write)", f"{base}/journey/steps/{STEP}/autosave",
                    args.seconds, args.connections, post),
            ]
        finally:
            server.terminate()
            server.wait(10)
            if args.database_url:
                own_database(args.database_url, drop=True)
    report(results, args.connections, "PostgreSQL" if args.database_url else "SQLite",
           args.workers)


def report(results: list[Result], connections: int, database: str, workers: int) -> None:
    baseline = results[0].rps
    print(f"wrk, {connections} connections, {database}, {workers} uvicorn worker(s); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'case':36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs baseline':>12}  errors")
    for result in results:
        print(f"{result.name:36} {result.rps:8.0f} {result.p50_ms:8.1f} {result.p99_ms:8.1f} "
              f"{result.rps / baseline:11.0%}  {result.errors}")


if __name__ == "__main__":
    main()
