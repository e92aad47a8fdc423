"""The home page with stored suggestions, in-process, on a fresh SQLite database with the
demo data: its cost beside /healthz (the baseline, measured in the same run), and beside
scoring one member's lists, the work the `matching.suggestions` job now does instead.

The demo member gets a purpose statement and preferences; their suggestions job is run
once with the real task code, then /home is asked for N times. The bench checks that the
page shows the stored mentors and that no job is asked for while it is timed.

    .venv/bin/python -m bench.suggestions [--requests 300]
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
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app import demo, migrate
from app.accounts import service as accounts
from app.accounts.models import User
from app.community import service as community
from app.db import session_scope
from app.jobs import runner
from app.jobs import service as job_service
from app.jobs import tasks as _tasks  # noqa: F401  (registers matching.suggestions)
from app.jobs.models import Job
from app.journeys import loader, statements
from app.journeys import service as journeys
from app.journeys.models import Visibility
from app.main import create_app
from app.matching import service as matching
from app.matching import suggestions
from app.matching.models import MemberSuggestions
from app.settings import Settings
from app.surveys import waves
from app.surveys.definitions import load_battery
from app.web import SESSION_COOKIE

MEMBER = "member@demo.example.org"
PURPOSE = ("I want to help young people in my town find work they care about, because "
           "someone once did the same for me. I would like a mentor who listens first.")
THEMES = ("Youth and education", "Career and work")


def timed(fn: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def give_a_purpose(session: Session, user: User) -> None:
    """The member's purpose statement (shared with mentors) and what they look for."""
    assert user.id is not None
    enrolment = journeys.enrol(session, user_id=user.id, journey_key="purpose")
    assert enrolment.id is not None
    statements.save_version(session, enrolment=enrolment, text=PURPOSE, parts={})
    statements.publish(session, enrolment_id=enrolment.id, visibility=Visibility.mentor)
    themes = [theme.key for theme in community.themes(session) if theme.label in THEMES]
    matching.save_preferences(session, user_id=user.id, themes=themes, languages=["en"],
                              wishes=[], wants="")


def run_suggestion_jobs(app_settings: Settings, engine: Engine) -> int:
    """The due `matching.suggestions` jobs, run once each by the worker's own runner."""
    with Session(engine) as session:
        due = job_service.due_ids(session, names=[suggestions.TASK])
    for job_id in due:
        runner.run_job(job_id, sessions=lambda: session_scope(engine),
                       settings=app_settings, worker="bench")
    return len(due)


def jobs_asked(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Job)).one())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    count = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings(var_dir=Path(directory), database_url=url, secret_key="b" * 32)
        app = create_app(settings)
        engine = app.state.engine
        battery = load_battery()
        with Session(engine) as session:
            waves.store_instruments(session, battery.values())
            journeys.store_versions(session, loader.load_all(instruments=set(battery)))
            demo.load(session)
            member = accounts.get_user_by_email(session, MEMBER)
            assert member is not None and member.id is not None
            member_id = member.id
            give_a_purpose(session, member)
            token = accounts.start_session(session, user=member, settings=settings)
            session.commit()
        ran = run_suggestion_jobs(settings, engine)
        with Session(engine) as session:
            user = accounts.get_user(session, member_id)
            assert user is not None
            stored = suggestions.shown(session, user=user)
        assert ran and stored.ready and stored.mentors, "the member's lists were not stored"

        client = TestClient(app)
        anonymous = TestClient(app)
        client.cookies.set(SESSION_COOKIE, token)
        page = client.get("/home")
        assert page.status_code == 200, page.text
        assert stored.mentors[0].name in page.text, "/home does not show the stored mentors"
        assert "Suggestions are being prepared" not in page.text

        def score_one_member() -> None:
            """The job's reading and scoring, with the stored row out of the way (and put
            back by the rollback), so each call scores afresh."""
            with Session(engine) as session:
                session.delete(session.exec(select(MemberSuggestions).where(
                    MemberSuggestions.user_id == member_id)).one())
                session.flush()
                computed = suggestions.compute(session, user_ids=[member_id],
                                               encoder_name=settings.encoder)
                session.rollback()
            assert computed

        before = jobs_asked(engine)
        cases: dict[str, Callable[[], object]] = {
            "GET /healthz (baseline)": lambda: anonymous.get("/healthz"),
            "GET /home (stored suggestions)": lambda: client.get("/home"),
            "scoring one member (the job)": score_one_member,
        }
        results = {name: timed(fn, count if "GET" in name else max(10, count // 10))
                   for name, fn in cases.items()}
        assert jobs_asked(engine) == before, "/home asked for a job while it was timed"

        baseline = statistics.median(results["GET /healthz (baseline)"])
        print(f"{'case':34} {'runs':>5} {'median ms':>10} {'p95 ms':>8} {'req/s':>8} "
              f"{'× baseline':>11}")
        for name, samples in results.items():
            median = statistics.median(samples)
            p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
            print(f"{name:34} {len(samples):5} {median * 1000:10.2f} {p95 * 1000:8.2f} "
                  f"{1 / median:8.0f} {median / baseline:11.1f}")
        print(f"{len(stored.mentors)} mentors and {len(stored.content)} content items shown "
              f"from the stored lists; encoder {settings.encoder}; SQLite, one process.")
        engine.dispose()


if __name__ == "__main__":
    main()
