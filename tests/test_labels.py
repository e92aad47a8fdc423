"""What people read on the manager's and researcher's main pages, on the demo data,
carries labels, never internal codes (`first_steps`, `anxiety.anxiety`).
Files for analysis (CSV, codebooks to download) keep the codes: that is their job."""

import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import demo
from app.accounts import service as accounts
from app.matching import runs
from app.research import demo as research_demo
from app.research import service as research
from app.settings import Settings
from tests.factories import signed_in
from tests.matching.factories import RUN_JOBS, run_jobs

# snake_case words and dotted keys; addresses and file names are not codes.
CODE = re.compile(r"(?<![\w@./-])[a-z]+(?:_[a-z0-9]+)+(?![\w@-])"
                  r"|(?<![\w@./-])[a-z]+\.[a-z_]+(?![\w@./-])")
NOT_CODES = {"e.g", "i.e"}
FILE_NAME = re.compile(r"\.(csv|zip|parquet|sav|dta|md|txt|json|yaml|eml|sps|r)$")


class VisibleText(HTMLParser):
    """The text a person reads: no scripts, styles, attributes, <code> samples or what
    a person types into a field (a battery is typed as short names on purpose)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "code", "template", "textarea"}:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "code", "template", "textarea"} and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def codes_in(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    return {code for code in CODE.findall(" ".join(parser.parts))
            if code not in NOT_CODES and not FILE_NAME.search(code)}


@pytest.fixture
def demo_pages(db: Session, settings: Settings) -> dict[str, list[str]]:
    demo.load(db)
    study = research.study_by_slug(db, research_demo.STUDY_SLUG)
    assert study is not None
    cohort_id = research.cohort_ids_of(db, study)[0]
    run = runs.start_run(db, cohort_id=cohort_id, by_id=None, encoder="tfidf")
    assert run_jobs(db, settings, RUN_JOBS) == 1
    db.commit()
    study_url = f"/research/studies/{study.id}"
    return {
        "manager@demo.example.org": [
            "/home", "/cohorts", f"/cohorts/{cohort_id}", f"/cohorts/{cohort_id}/invitations",
            "/matching", f"/matching/runs/{run.id}", f"/matching/runs/{run.id}/publish",
            "/matching/history", "/content", "/themes"],
        "researcher@demo.example.org": [
            "/home", "/research", study_url, f"{study_url}/participants",
            f"{study_url}/export", f"{study_url}/outcomes", f"{study_url}/edit"],
    }


def test_main_pages_show_labels_not_codes(
    app: FastAPI, db: Session, settings: Settings, demo_pages: dict[str, list[str]]
) -> None:
    found: dict[str, set[str]] = {}
    for email, paths in demo_pages.items():
        client = TestClient(app, follow_redirects=False)
        user = accounts.get_user_by_email(db, email)
        assert user is not None
        signed_in(client, db, settings, user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, f"{path}: {response.status_code}"
            if codes := codes_in(response.text):
                found[path] = codes
    assert found == {}, "\n".join(f"{p}: {sorted(c)}" for p, c in found.items())


def test_the_check_finds_a_code() -> None:
    assert codes_in("<p>Offers: first_steps, anxiety.anxiety</p><code>x_y</code>") == {
        "first_steps", "anxiety.anxiety"}
    assert codes_in("<p>Write to ana@demo.example.org or open report.csv</p>") == set()
