"""The research pages at demo size, in-process, on a fresh SQLite database.

Loads the demo data (`app.demo`: 60 synthetic participants, three waves), runs the
`research.outcomes` job once in this process, then times the cached outcome page, the
study page and the request for a zip bundle. The bundle request only records the file and
hands the job to the queue; no worker runs here, so the time is the request's alone.
Ratios are against GET /healthz, measured in the same run.

    .venv/bin/python -m bench.research_pages [--requests 200]
"""

import argparse
import re
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app import demo, migrate
from app.accounts import service as accounts
from app.db import session_scope
from app.jobs import runner, service
from app.jobs import tasks as _tasks  # noqa: F401
from app.main import create_app
from app.research import outcome_cache
from app.research import service as research
from app.research.demo import RESEARCHER_EMAIL, STUDY_SLUG
from app.research.models import ExportFile, ExportStatus
from app.settings import Settings
from app.web import SESSION_COOKIE

# The targets, once the report is computed.
TARGETS_MS = {"outcomes": 100.0, "study": 100.0, "bundle": 200.0}
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def timed(fn: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def checked(response: object, status: int) -> object:
    code = getattr(response, "status_code", None)
    if code != status:
        raise SystemExit(f"expected {status}, got {code}: {getattr(response, 'text', '')[:500]}")
    return response


def compute_outcomes(settings: Settings, engine: Engine, study_id: int) -> float:
    """Ask for the report and run its job here, as a worker would; returns the seconds."""
    with session_scope(engine) as session:
        outcome_cache.ask(session, study_id=study_id)
    with Session(engine) as session:
        due = service.due_ids(session)
    start = time.perf_counter()
    for job_id in due:
        runner.run_job(job_id, sessions=lambda: session_scope(engine),
                       settings=settings, worker="bench")
    with Session(engine) as session:
        cached = outcome_cache.cached(session, study_id=study_id)
        if cached is None or cached.report is None or cached.computing:
            raise SystemExit("the research.outcomes job did not leave a current report")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    count = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings(var_dir=Path(directory), database_url=url, secret_key="b" * 32)
        app = create_app(settings)
        engine = app.state.engine
        start = time.perf_counter()
        with session_scope(engine) as session:
            demo.load(session)
        loaded = time.perf_counter() - start
        with session_scope(engine) as session:
            study = research.study_by_slug(session, STUDY_SLUG)
            researcher = accounts.get_user_by_email(session, RESEARCHER_EMAIL)
            assert study is not None and study.id is not None and researcher is not None
            study_id = study.id
            token = accounts.start_session(session, user=researcher, settings=settings)
        job_seconds = compute_outcomes(settings, engine, study_id)

        client = TestClient(app)
        anonymous = TestClient(app)
        client.cookies.set(SESSION_COOKIE, token)
        base = f"/research/studies/{study_id}"
        export_page = checked(client.get(f"{base}/export"), 200)
        found = TOKEN.search(getattr(export_page, "text", ""))
        assert found is not None
        csrf = found.group(1)
        outcomes = checked(client.get(f"{base}/outcomes"), 200)
        if "Computed at " not in getattr(outcomes, "text", ""):
            raise SystemExit("the outcome page does not show the computed report")

        cases: dict[str, tuple[str, Callable[[], object]]] = {
            "GET /healthz (baseline)": ("", lambda: checked(anonymous.get("/healthz"), 200)),
            "GET outcome report (cached)": ("outcomes", lambda: checked(
                client.get(f"{base}/outcomes"), 200)),
            "GET study page": ("study", lambda: checked(client.get(base), 200)),
            "GET export page": ("", lambda: checked(client.get(f"{base}/export"), 200)),
            "POST bundle request (enqueue)": ("bundle", lambda: checked(client.post(
                f"{base}/export", data={"csrf_token": csrf, "format": "bundle"},
                follow_redirects=False), 303)),
        }
        results = {name: timed(fn, count) for name, (_, fn) in cases.items()}
        with Session(engine) as session:
            queued = session.exec(select(func.count()).select_from(ExportFile).where(
                ExportFile.status == ExportStatus.queued)).one()
        if queued != count:
            raise SystemExit(f"expected {count} queued bundle files, found {queued}")

        print(f"demo loaded in {loaded:.1f} s; research.outcomes job ran once in "
              f"{job_seconds:.2f} s; {count} requests per case\n")
        baseline = statistics.median(results["GET /healthz (baseline)"])
        print(f"{'case':32} {'median ms':>10} {'p95 ms':>8} {'× baseline':>11} "
              f"{'target ms':>10}  met")
        for name, samples in results.items():
            median = statistics.median(samples)
            p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
            key = cases[name][0]
            target = TARGETS_MS.get(key)
            verdict = "" if target is None else ("yes" if p95 * 1000 < target else "NO")
            print(f"{name:32} {median * 1000:10.2f} {p95 * 1000:8.2f} {median / baseline:11.1f} "
                  f"{'' if target is None else f'{target:.0f}':>10}  {verdict}")
        engine.dispose()


if __name__ == "__main__":
    main()
