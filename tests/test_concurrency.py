"""One slow client does not stop everyone; readers run side by side; writers lose nothing.

The app is served by a real uvicorn in a thread (the same middleware stack as
`telos serve`) on a fresh database per backend.
"""

import asyncio
import os
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import Request
from fastapi.responses import Response
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from app import migrate
from app.accounts import consent
from app.accounts import service as accounts
from app.accounts.models import Role
from app.db import READ_TURN, TURN, make_engine
from app.deps import SessionDep, open_access
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.loader import load_all
from app.journeys.models import StepAnswer
from app.main import ReadBodyFirst, create_app
from app.settings import Settings
from app.surveys import waves
from app.surveys.definitions import load_battery
from tests.databases import BACKENDS, drop_postgres_database, fresh_database_url
from tests.live import serving_in_thread

PASSWORD = "a long enough concurrency test password"
STEP = "high_points"
MEMBERS = 8
ANSWER_WITHIN_SECONDS = 1.0


def prepare(url: str) -> None:
    """Content loaded; MEMBERS members who consented, with the purpose journey's pre wave sent."""
    migrate.upgrade(url)
    engine = make_engine(url)
    battery = load_battery()
    with Session(engine) as session:
        consent.store_documents(session)
        waves.store_instruments(session, battery.values())
        journeys.store_versions(session, load_all(instruments=set(battery)))
        document = consent.current_document(session)
        assert document is not None
        for number in range(MEMBERS):
            user = accounts.create_user(session, email=f"member{number}@example.org",
                                        display_name=f"Member {number}", password=PASSWORD,
                                        roles=[Role.member])
            assert user.id is not None
            consent.give(session, user_id=user.id, document=document, research_use=True)
            enrolment = journeys.enrol(session, user_id=user.id, journey_key="purpose")
            for key in waves.wave_keys(session, enrolment, Wave.pre):
                response = waves.open_response(session, enrolment=enrolment, wave=Wave.pre,
                                               key=key)
                instrument = waves.instrument_for(session, response)
                waves.save_draft(session, response=response, answers={
                    item.id: instrument.options_of(item)[0].value for item in instrument.items})
                waves.submit(session, response=response, instrument=instrument)
            journeys.mark_done(session, enrolment=enrolment, step_id="baseline")
            journeys.mark_done(session, enrolment=enrolment, step_id="welcome")
        session.commit()
    engine.dispose()


@dataclass
class Served:
    url: str
    port: int
    database_url: str


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("concurrency")
    name = f"telos_concurrency_{os.getpid()}"
    database_url = fresh_database_url(request.param, directory, name)
    prepare(database_url)
    app = create_app(Settings(
        var_dir=directory / "var", database_url=database_url,
        secret_key="concurrency-test-secret-key-long-enough", base_url="http://testserver",
    ))
    try:
        with serving_in_thread(app) as port:
            yield Served(f"http://127.0.0.1:{port}", port, database_url)
    finally:
        app.state.engine.dispose()
        if request.param == "postgresql":
            drop_postgres_database(name)


@dataclass
class Member:
    client: httpx.Client
    token: str
    editor: str
    version: str


def signed_in(url: str, number: int) -> Member:
    client = httpx.Client(base_url=url, timeout=20)
    login = client.get("/login").text
    token = re.search(r'name="csrf_token" value="(\w+)"', login)
    assert token, login
    response = client.post("/login", data={"email": f"member{number}@example.org",
                                           "password": PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 303, response.text
    step = client.get(f"/journey/steps/{STEP}")
    assert step.status_code == 200, step.text
    page_token = re.search(r'"X-CSRF-Token": "(\w+)"', step.text)
    editor = re.search(r'name="editor" value="(\w+)"', step.text)
    version = re.search(r'name="version" id="answer-version" value="(\d+)"', step.text)
    assert page_token and editor and version, step.text
    return Member(client, page_token.group(1), editor.group(1), version.group(1))


def autosave(member: Member, words: str, timeout: float = 20) -> httpx.Response:
    return member.client.post(
        f"/journey/steps/{STEP}/autosave", timeout=timeout,
        headers={"X-CSRF-Token": member.token, "HX-Request": "true"},
        data={"version": member.version, "editor": member.editor, "prompt-alive": words},
    )


@pytest.mark.live
def test_a_slow_request_body_does_not_stop_anyone(served: Served) -> None:
    member = signed_in(served.url, 0)
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as slow:
        slow.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 100000\r\n\r\na=")
        time.sleep(0.3)  # the server has the head and is waiting for the rest
        with httpx.Client(base_url=served.url, timeout=ANSWER_WITHIN_SECONDS) as other:
            assert other.get("/healthz").status_code == 200
            assert other.get("/login").status_code == 200
        page = member.client.get(f"/journey/steps/{STEP}", timeout=ANSWER_WITHIN_SECONDS)
        assert page.status_code == 200
        saved = autosave(member, "Still here", timeout=ANSWER_WITHIN_SECONDS)
        assert saved.status_code == 200, saved.text
    member.client.close()


@pytest.mark.live
def test_sixteen_threads_of_reads_and_writes_lose_nothing(served: Served) -> None:
    members = [signed_in(served.url, number) for number in range(MEMBERS)]
    saves = 15
    failures: list[str] = []

    def writer(member: Member) -> None:
        for number in range(saves):
            response = autosave(member, f"Save {number} by {member.editor}")
            if response.status_code != 200 or "saved" not in response.text.lower():
                failures.append(f"autosave {response.status_code}: {response.text[:200]}")

    def reader(member: Member) -> None:
        for path in [f"/journey/steps/{STEP}", "/home", "/healthz", "/journey"] * 4:
            response = member.client.get(path)
            if response.status_code != 200:
                failures.append(f"GET {path} {response.status_code}: {response.text[:200]}")

    with ThreadPoolExecutor(max_workers=2 * MEMBERS) as pool:
        futures = [pool.submit(writer, member) for member in members]
        futures += [pool.submit(reader, member) for member in members]
        for future in futures:
            future.result()
    for member in members:
        member.client.close()
    assert failures == []

    engine = make_engine(served.database_url)
    try:
        with Session(engine) as session:
            stored = {answer.editor: answer.data
                      for answer in session.exec(select(StepAnswer).where(
                          StepAnswer.step_id == STEP))}
    finally:
        engine.dispose()
    for member in members:
        assert f"Save {saves - 1} by {member.editor}" in str(stored[member.editor])


def test_a_reader_that_writes_after_another_writer_committed_runs_again_as_a_writer(
    tmp_path: Path,
) -> None:
    """SQLITE_BUSY_SNAPSHOT, which the busy timeout does not cover, never becomes a 500."""
    database = tmp_path / "snapshot.db"
    with closing(sqlite3.connect(database)) as setup, setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE hit (who TEXT)")
    app = create_app(Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{database}",
                              secret_key="snapshot-test-secret-key-long-enough"))
    turns: list[str] = []

    def read_then_write(request: Request, session: SessionDep) -> Response:
        turns.append(request.state.database_turn)
        before = session.execute(text("SELECT count(*) FROM hit")).scalar_one()
        if getattr(request.state, TURN) == READ_TURN:
            # Another writer commits in between.
            with closing(sqlite3.connect(database)) as other, other:
                other.execute("INSERT INTO hit VALUES ('other')")
        session.execute(text("INSERT INTO hit VALUES ('page')"))
        return Response(f"{before}")

    app.add_api_route("/read-then-write", read_then_write, dependencies=[open_access])
    with TestClient(app) as client:
        response = client.get("/read-then-write")
    app.state.engine.dispose()
    assert response.status_code == 200
    assert response.text == "1"  # the second run saw the other writer's row
    assert turns == ["read", "write"]
    with closing(sqlite3.connect(database)) as check:
        rows = sorted(row for (row,) in check.execute("SELECT who FROM hit"))
    assert rows == ["other", "page"]  # the first run's write was rolled back


def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_app_never_sees_it() -> None:
    called: list[object] = []
    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        called.append(scope)

    async def receive() -> dict[str, object]:
        if not sent and not called:
            sent.append({})
            return {"type": "http.request", "body": b"a=", "more_body": True}
        await asyncio.sleep(60)
        raise AssertionError("the deadline did not fire")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/login",
             "headers": [(b"content-length", b"100000")]}
    started = time.monotonic()
    asyncio.run(ReadBodyFirst(app, seconds=0.2)(scope, receive, send))  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert called == []
    assert sent[1]["type"] == "http.response.start" and sent[1]["status"] == 408


def test_a_body_larger_than_allowed_gets_413() -> None:
    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the app must not be called")

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    for headers in ([(b"content-length", b"1000")], []):
        sent.clear()
        scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers}
        asyncio.run(ReadBodyFirst(app, max_bytes=500)(scope, receive, send))  # type: ignore[arg-type]
        assert sent[0]["status"] == 413
