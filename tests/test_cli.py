"""The `telos` command, run in-process against real databases."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import migrate
from app.cli import cli
from app.demo import DEMO_LOGINS


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TELOS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TELOS_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.delenv("TELOS_SECRET_KEY", raising=False)
    monkeypatch.delenv("TELOS_ENV", raising=False)
    return tmp_path


runner = CliRunner()


def test_db_check_says_how_to_fix_a_database_that_is_behind(env: Path) -> None:
    result = runner.invoke(cli, ["db", "check"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "behind the migrations" in lines[0] and "telos db upgrade" in lines[0]


def test_serve_refuses_a_database_that_is_behind(env: Path) -> None:
    result = runner.invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "run `telos db upgrade`" in result.output


def test_db_upgrade_then_check(env: Path) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["db", "check"])
    assert result.exit_code == 0
    assert "up to date" in result.output


def test_demo_is_idempotent_and_loads_only_into_an_empty_database(env: Path) -> None:
    migrate.upgrade(f"sqlite:///{env}/cli.db")
    first = runner.invoke(cli, ["demo"])
    assert f"({len(DEMO_LOGINS)} new accounts)" in first.output
    assert "(0 new accounts)" in runner.invoke(cli, ["demo"]).output
    assert "already has users" in runner.invoke(cli, ["demo", "--if-empty"]).output


def test_users_create_makes_the_first_admin(env: Path) -> None:
    migrate.upgrade(f"sqlite:///{env}/cli.db")
    result = runner.invoke(
        cli, ["users", "create", "--email", "Boss@Example.org", "--role", "admin",
              "--role", "manager"],
        input="a long admin password\na long admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "boss@example.org" in result.output and "admin, manager" in result.output
    again = runner.invoke(cli, ["users", "create", "--email", "boss@example.org",
                                "--role", "admin", "--password", "a long admin password"])
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_users_create_refuses_a_short_password(env: Path) -> None:
    migrate.upgrade(f"sqlite:///{env}/cli.db")
    result = runner.invoke(cli, ["users", "create", "--email", "a@example.org",
                                 "--role", "admin", "--password", "short"])
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_production_refuses_to_start_without_a_secret_key(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELOS_ENV", "production")
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "TELOS_SECRET_KEY is not set" in result.output


def test_development_secret_key_is_generated_once_and_kept(env: Path) -> None:
    from app.settings import Settings

    first = Settings().resolve_secret_key()
    assert first == Settings().resolve_secret_key()
    assert (env / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_db_upgrade_on_an_unreachable_database_says_so_in_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELOS_DATABASE_URL",
                       "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "cannot use the database" in result.output
    assert "Traceback" not in result.output


# What `telos --help` must not wait for: each loads in the command that uses it.
HEAVY_AT_IMPORT = ("sklearn", "ortools", "pandas", "pyarrow", "scipy", "matplotlib", "polars",
                   "huey", "argon2", "sqlalchemy", "sqlmodel")


def test_importing_the_command_loads_no_heavy_library() -> None:
    probe = ("import sys, app.cli; "
             f"print(' '.join(name for name in {HEAVY_AT_IMPORT!r} if name in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.split()
    assert loaded == []


def test_help_lists_every_command_group() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True,
                            text=True, check=True)
    for group in ("serve", "db", "users", "journeys", "surveys", "match", "research"):
        assert group in result.stdout


# What `telos db check` must not wait for: it reads one row and the migration files as text.
HEAVY_FOR_DB_CHECK = ("alembic", "sqlmodel", "sqlalchemy.orm", "app.db", "app.models")


def test_db_check_answers_without_alembic_or_the_orm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'checked.db'}"
    migrate.upgrade(url)
    probe = ("import sys\nfrom app.cli import cli\n"
             "try:\n    cli(['db', 'check'])\nexcept SystemExit as done:\n"
             "    assert done.code in (0, None), done.code\n"
             f"print('loaded:', *[name for name in {HEAVY_FOR_DB_CHECK!r} "
             "if name in sys.modules])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, env={**os.environ, "TELOS_DATABASE_URL": url})
    head = migrate._alembic_head(url)
    assert f"The database is up to date (revision {head})." in done.stdout
    assert done.stdout.strip().endswith("loaded:")


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert migrate.head_of_files(migrate.VERSIONS) == migrate._alembic_head("sqlite://")
