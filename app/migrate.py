"""Alembic driven from code: upgrade, and tell whether a database is behind."""

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.settings import ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
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
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return MigrationState(current=current, head=head)
