"""Clicks that arrive at the same moment: real threads against the app served by uvicorn
on a fresh database per backend, as in tests/test_concurrency.py."""

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app import migrate
from app.accounts.models import Role, User
from app.db import make_engine, session_scope
from app.jobs.models import Job
from app.main import create_app
from app.matching import runs
from app.matching.models import Match, MatchExclusion, MatchRun, MatchSource, MatchStatus, RunStatus
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.databases import BACKENDS, drop_postgres_database, fresh_database_url
from tests.factories import PASSWORD, create_user
from tests.live import serving_in_thread
from tests.matching.factories import create_cohort, create_mentor

CLICKS = 4


@dataclass
class Served:
    url: str
    engine: Engine


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("races")
    name = f"telos_races_{os.getpid()}"
    database_url = fresh_database_url(request.param, directory, name)
    migrate.upgrade(database_url)
    app = create_app(Settings(
        var_dir=directory / "var", database_url=database_url,
        secret_key="races-test-secret-key-long-enough", base_url="http://testserver",
    ))
    engine = make_engine(database_url)
    try:
        with serving_in_thread(app) as port:
            yield Served(f"http://127.0.0.1:{port}", engine)
    finally:
        engine.dispose()
        app.state.engine.dispose()
        if request.param == "postgresql":
            drop_postgres_database(name)


def signed_in(url: str, user: User) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=30)
    token = csrf_token_in(client.get("/login").text)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 303, response.text
    return client, csrf_token_in(client.get("/", follow_redirects=True).text)


def all_at_once(clicks: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Every click released by one barrier, each in its own thread."""
    start = threading.Barrier(len(clicks))

    def click(send: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return send()

    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        return list(pool.map(click, clicks))


def test_a_double_click_on_request_this_mentor_makes_one_request(served: Served) -> None:
    with Session(served.engine, expire_on_commit=False) as db:
        member = create_user(db, roles=[Role.member])
        mentor = create_mentor(db, capacity=3)
    client, token = signed_in(served.url, member)

    def request_mentor() -> httpx.Response:
        return client.post("/my-mentor/request", data={
            "mentor_id": str(mentor.id), "next": "/my-mentor", "csrf_token": token})

    answers = all_at_once([request_mentor] * CLICKS)
    assert [answer.status_code for answer in answers] == [303] * CLICKS, \
        [answer.text[:300] for answer in answers]
    assert {answer.headers["location"] for answer in answers} == {"/my-mentor"}
    page = client.get("/my-mentor").text
    assert "has been asked to be your mentor" in page
    client.close()
    with Session(served.engine, expire_on_commit=False) as db:
        matches = db.exec(select(Match).where(Match.member_id == member.id)).all()
        assert [(m.mentor_id, m.status, m.source) for m in matches] == [
            (mentor.id, MatchStatus.proposed, MatchSource.member)]
        mails = db.exec(select(func.count()).select_from(Job).where(
            Job.name == "mail.send")).one()
        assert mails == 1  # the mentor is asked once


def draft_run(db: Session, *, pairs: int) -> tuple[MatchRun, list[Match]]:
    cohort = create_cohort(db)
    run = MatchRun(cohort_id=cohort.id or 0, status=RunStatus.draft, encoder="hashing",
                   weights={"text": 0.55, "themes": 0.3, "time_zone": 0.1, "wishes": 0.05})
    db.add(run)
    db.flush()
    mentor = create_mentor(db, capacity=pairs)
    drafts = [Match(run_id=run.id, member_id=create_user(db).id or 0, mentor_id=mentor.id or 0,
                    source=MatchSource.run, status=MatchStatus.draft) for _ in range(pairs)]
    db.add_all(drafts)
    db.commit()
    return run, drafts


def test_managers_excluding_pairs_at_once_keep_every_exclusion(served: Served) -> None:
    with Session(served.engine, expire_on_commit=False) as db:
        run, drafts = draft_run(db, pairs=CLICKS)
        managers = [create_user(db, roles=[Role.manager]) for _ in range(CLICKS)]
    signed = [signed_in(served.url, manager) for manager in managers]

    def exclude(client: httpx.Client, token: str, match: Match) -> Callable[[], httpx.Response]:
        return lambda: client.post(f"/matching/runs/{run.id}/matches/{match.id}/exclude",
                                   data={"csrf_token": token})

    answers = all_at_once([exclude(client, token, match)
                           for (client, token), match in zip(signed, drafts, strict=True)])
    assert [answer.status_code for answer in answers] == [303] * CLICKS, \
        [answer.text[:300] for answer in answers]
    for client, _token in signed:
        client.close()
    with session_scope(served.engine) as db:
        stored = runs.exclusions(db, db.get(MatchRun, run.id) or run)
        assert sorted(stored) == sorted((m.member_id, m.mentor_id) for m in drafts)
        assert db.exec(select(func.count()).select_from(Match).where(
            col(Match.id).in_([m.id for m in drafts]))).one() == 0
        rows = db.exec(select(MatchExclusion).where(MatchExclusion.run_id == run.id)).all()
        assert {row.excluded_by_id for row in rows} == {manager.id for manager in managers}
