"""`telos research export`, run in-process against a migrated SQLite file with the demo."""

import csv
import io
from pathlib import Path

import pyreadstat
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from app import migrate
from app.audit.models import AuditEvent
from app.cli import cli
from app.db import make_engine, session_scope
from app.research import demo

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli')}/research.db"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        demo.load(session)
    engine.dispose()
    return url


@pytest.fixture
def env(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TELOS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TELOS_DATABASE_URL", database)
    return tmp_path


def audit_events(database: str) -> list[AuditEvent]:
    engine = make_engine(database)
    try:
        with Session(engine) as session:
            return list(session.exec(
                select(AuditEvent).where(AuditEvent.action == "research.export")))
    finally:
        engine.dispose()


def test_export_writes_the_file_and_records_it_as_the_cli(env: Path, database: str) -> None:
    before = len(audit_events(database))
    out = env / "scores.csv"
    result = runner.invoke(cli, ["research", "export", "--study", demo.STUDY_SLUG,
                                 "--format", "scores", "--out", str(out), "--wave", "post"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows and {row["wave"] for row in rows} == {"post"}
    assert f"Wrote {len(rows)} row(s)" in result.output
    events = audit_events(database)
    assert len(events) == before + 1
    event = events[-1]
    assert event.actor_id is None and event.details["actor"] == "cli"
    assert event.details["rows"] == len(rows)
    assert event.details["filters"] == {"waves": "post", "instruments": "all"}


def test_export_to_spss(env: Path) -> None:
    out = env / "wide.sav"
    result = runner.invoke(cli, ["research", "export", "--study", demo.STUDY_SLUG,
                                 "--format", "sav", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame, _meta = pyreadstat.read_sav(str(out))
    census_participants = 51  # 60 members, 5 without research consent, 4 withdrawn
    assert len(frame) == census_participants


def test_an_unknown_study_is_a_clear_error(env: Path) -> None:
    out = env / "x.csv"
    result = runner.invoke(cli, ["research", "export", "--study", "no-such-study",
                                 "--format", "long", "--out", str(out)])
    assert result.exit_code == 1
    assert "there is no study called 'no-such-study'" in result.output
    assert not out.exists()


def test_an_unknown_format_or_wave_is_a_clear_error(env: Path) -> None:
    out = env / "x.csv"
    fmt = runner.invoke(cli, ["research", "export", "--study", demo.STUDY_SLUG,
                              "--format", "xlsx", "--out", str(out)])
    assert fmt.exit_code == 1 and "there is no export format 'xlsx'" in fmt.output
    wave = runner.invoke(cli, ["research", "export", "--study", demo.STUDY_SLUG,
                               "--format", "long", "--out", str(out), "--wave", "later"])
    assert wave.exit_code == 1 and "not a wave of this study: later" in wave.output
    assert not out.exists()
