"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database beside the test one."""

import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("TELOS_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def fresh_postgres_database(url: str, name: str) -> str:
    """A new, empty database next to the one in `url`; fails loudly if it cannot connect."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def fresh_database_url(backend: str, directory: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory}/{name}.db"
    return fresh_postgres_database(POSTGRES_URL, name)



def drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

if os.environ.get("TELOS_REQUIRE_POSTGRES") and not POSTGRES_URL:
    raise RuntimeError(
        "TELOS_REQUIRE_POSTGRES is set but TELOS_TEST_DATABASE_URL is not: "
        "CI must run the suite on PostgreSQL too."
    )
