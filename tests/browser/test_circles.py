"""In a real browser, JavaScript on and off: two members of a published circle post and
reply in its thread, and each sees the other's words as plain text."""

import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.accounts import service as accounts
from app.accounts.models import Role
from app.community import circles
from app.community import service as community
from app.community.circle_models import Circle, CircleForming, FormingStatus
from app.db import make_engine, session_scope
from app.journeys import service as journeys
from tests.databases import fresh_database_url
from tests.live import TELOS, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "a long enough circles password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("circles")
    live = LiveServer(fresh_database_url("sqlite", directory, "telos_circles"), directory)
    env = live.environment()
    for command in (("db", "upgrade"), ("journeys", "load")):
        subprocess.run([str(TELOS), *command], env=env, cwd=directory, check=True,
                       capture_output=True, timeout=120)
    with live:
        yield live


def published_circle(server: LiveServer) -> tuple[int, list[str]]:
    """A cohort of four members in one published circle, written straight into the server's
    database (the grouping computed here rather than by the server's worker)."""
    tag = uuid.uuid4().hex[:6]
    emails = [f"circler-{n}-{tag}@example.org" for n in range(4)]
    engine = make_engine(server.database_url)
    with session_scope(engine) as session:
        cohort = community.create_cohort(session, name=f"Circles {tag}", journey_key="purpose",
                                         starts_on=date(2026, 1, 1), ends_on=None,
                                         created_by_id=None)
        for n, email in enumerate(emails):
            member = accounts.create_user(session, email=email, display_name=f"Circler {n}",
                                          password=PASSWORD, roles=[Role.member])
            journeys.enrol(session, user_id=member.id or 0, journey_key="purpose",
                           cohort_id=cohort.id)
        forming = CircleForming(cohort_id=cohort.id or 0, status=FormingStatus.running, job_id=0)
        session.add(forming)
        session.flush()
        drafts = circles.compute(circles.forming_inputs(session, forming), encoder="tfidf")
        assert circles.save_drafts(session, forming_id=forming.id or 0, job_id=0, drafts=drafts)
        circles.publish(session, cohort_id=cohort.id or 0, by_id=None, base_url=server.url)
        circle = session.exec(select(Circle).where(Circle.cohort_id == cohort.id)).one()
        circle_id = circle.id or 0
    engine.dispose()
    return circle_id, emails


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def log_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_two_members_post_and_reply(page: Page, server: LiveServer) -> None:
    circle_id, (first, second, *_) = published_circle(server)
    log_in(page, first)
    page.goto(f"/circles/{circle_id}")
    expect(page.get_by_role("heading", name=re.compile(r"^Circle \d+ of"))).to_be_visible()
    page.get_by_label("Write to your circle").fill("Hello circle <b>all</b> of you")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted.")).to_be_visible()
    expect(page.get_by_text("Hello circle <b>all</b> of you")).to_be_visible()
    log_out(page)

    log_in(page, second)
    page.goto(f"/circles/{circle_id}")
    expect(page.get_by_text("Hello circle <b>all</b> of you")).to_be_visible()
    page.get_by_label("Reply").fill("Glad to meet you, Circler 0.")
    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page.get_by_text("Replied.")).to_be_visible()
    log_out(page)

    log_in(page, first)
    page.goto(f"/circles/{circle_id}")
    reply = page.locator("article.circle-post article.circle-post")
    expect(reply).to_contain_text("Glad to meet you, Circler 0.")
    expect(reply).to_contain_text("Circler 1")
