"""Fresh, migrated databases for tests: SQLite files and a PostgreSQL schema."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from accounts.db import make_engine
from accounts.migrate import upgrade
from accounts.models import metadata

PG_BASE_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pg_url(schema: str) -> str:
    """The test database with ``schema`` first on the search path."""
    return f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    engine = make_engine(PG_BASE_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"PostgreSQL at {PG_BASE_URL} unreachable: {type(error).__name__}"
    finally:
        engine.dispose()
    return None


def create_pg_schema(schema: str) -> str:
    """A freshly migrated schema in the test database; returns its URL."""
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = pg_url(schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_pg_schema(schema: str) -> None:
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def truncate_all(engine: Engine) -> None:
    """Empty every table (PostgreSQL), restarting ids."""
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def migrated_sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file to copy for each test."""
    path = directory / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
