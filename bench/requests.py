"""Request throughput of the foundation, in-process, on a fresh SQLite database.

Prints requests per second and the cost of each page relative to /healthz
(measured in the same run), so figures compare across machines.

    .venv/bin/python -m bench.requests [--requests 300]
"""

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import migrate
from app.accounts import service as accounts
from app.accounts.models import Role
from app.main import create_app
from app.settings import Settings
from app.web import SESSION_COOKIE


def timed(fn: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    count = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings(var_dir=Path(directory), database_url=url, secret_key="b" * 32)
        app = create_app(settings)
        with Session(app.state.engine) as session:
            admin = accounts.create_user(session, email="bench@example.org",
                                         display_name="Bench", password="bench password 1",
                                         roles=[Role.admin, Role.member])
            token = accounts.start_session(session, user=admin, settings=settings)
            session.commit()
        client = TestClient(app)
        anonymous = TestClient(app)
        client.cookies.set(SESSION_COOKIE, token)
        cases: dict[str, Callable[[], object]] = {
            "GET /healthz (baseline)": lambda: anonymous.get("/healthz"),
            "GET / (anonymous)": lambda: anonymous.get("/"),
            "GET /home (signed in)": lambda: client.get("/home"),
            "GET /admin/users (signed in)": lambda: client.get("/admin/users"),
        }
        results = {name: timed(fn, count) for name, fn in cases.items()}
        with Session(app.state.engine) as session:
            results["password check (Argon2id)"] = timed(lambda: accounts.authenticate(
                session, email="bench@example.org", password="bench password 1"
            ), max(5, count // 30))
        baseline = statistics.median(results["GET /healthz (baseline)"])
        print(f"{'case':34} {'median ms':>10} {'p95 ms':>8} {'req/s':>8} {'× baseline':>11}")
        for name, samples in results.items():
            median = statistics.median(samples)
            p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
            print(f"{name:34} {median * 1000:10.2f} {p95 * 1000:8.2f} {1 / median:8.0f} "
                  f"{median / baseline:11.1f}")
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
