"""Alembic driven from code: upgrade, and tell whether a database is behind."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from app.settings import ROOT

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic loads in half a second; `state` reads the chain from the files as text instead.
VERSIONS = ROOT / "migrations" / "versions"
REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*['\"]?([\w]+)", re.MULTILINE)


def alembic_config(database_url: str) -> "Config":
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)


@dataclass(frozen=True)
class MigrationState:
    current: str | None
    head: str | None

    @property
    def behind(self) -> bool:
        return self.current != self.head

    def advice(self, database_url: str) -> str:
        where = database_url.split("@")[-1]
        return (
            f"The database ({where}) is behind the migrations "
            f"(at {self.current or 'no revision'}, latest is {self.head}); "
            "run `telos db upgrade` to bring it up to date."
        )


def state(engine: Engine, database_url: str) -> MigrationState:
    head = head_of_files(VERSIONS) or _alembic_head(database_url)
    with engine.connect() as connection:
        current = _current_revision(connection)
    return MigrationState(current=current, head=head)


def head_of_files(directory: Path) -> str | None:
    """The one revision no file names as its down_revision; None when the files do not
    make one plain chain (a merge, a branch), for alembic to work out."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in directory.glob("*.py"):
        found = dict(REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"] != "None":
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _alembic_head(database_url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def _current_revision(connection: Any) -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
