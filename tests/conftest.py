"""Shared fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_engine, make_sessionmaker
from accounts.district import District, load_district
from accounts.seed import seed_demo
from accounts.settings import Settings
from tests.utils import database
from tests.utils.servers import unavailable

ROOT = Path(__file__).resolve().parent.parent
# A Tuesday, 10:00 in the district (office open). 2026-11-26 is Thanksgiving.
OFFICE_HOURS_NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return database.migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    reason = database.postgres_reachable()
    if reason:
        unavailable(reason)
    schema = f"assistant_test_{os.getpid()}"
    url = database.create_pg_schema(schema)
    yield url
    database.drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for this test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        return database.copy_sqlite(template, tmp_path / "test.db")
    url: str = request.getfixturevalue("pg_schema_url")
    engine = make_engine(url)
    database.truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(OFFICE_HOURS_NOW)


@pytest.fixture(scope="session")
def district() -> District:
    return load_district(ROOT / "bot" / "district.yml")


@pytest.fixture(scope="session")
def calendar(district: District) -> BusinessCalendar:
    return BusinessCalendar(district)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: its own database and var dir; nothing from the environment."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        var_dir=tmp_path / "var",
        district_file=ROOT / "bot" / "district.yml",
        inbox_maildir=tmp_path / "maildir",
    )


@pytest.fixture
def seeded(session: Session, clock: FixedClock, district: District) -> Session:
    """The demo district (personas, events, staff) with a few generated accounts."""
    now = clock.now()
    seed_demo(session=session, today=now.astimezone(district.tz).date(), anchor=now,
              generated=40, months=12)
    session.commit()
    return session
