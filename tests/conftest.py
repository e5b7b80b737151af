"""Shared fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_engine, make_sessionmaker
from accounts.district import District, load_district
from accounts.seed import seed_demo
from accounts.settings import Settings
from gateway.app import create_app
from gateway.services import build_services
from tests.utils import database
from tests.utils.live_server import LiveServer, serve
from tests.utils.rasa import RasaStack, iter_stack
from tests.utils.servers import free_port as closed_port
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


# -- the gateway over real HTTP, and the real Rasa stack --------------------------------


@pytest.fixture(scope="session")
def shared_gateway(sqlite_template: Path) -> Iterator[LiveServer]:
    """One uvicorn server for the session; each test swaps its own services in."""
    placeholder = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{sqlite_template}",
        district_file=ROOT / "bot" / "district.yml",
    )
    app = create_app(build_services(placeholder, clock=FixedClock(OFFICE_HOURS_NOW)))
    with serve(app) as server:
        yield server


@pytest.fixture(scope="session")
def rasa_stack(shared_gateway: LiveServer,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """The real Rasa server with the trained model and the real action server."""
    yield from iter_stack(tmp_path_factory.mktemp("rasa"), shared_gateway.url)


@pytest.fixture
def gateway(shared_gateway: LiveServer, settings: Settings, engine: Engine,
            clock: FixedClock) -> Iterator[LiveServer]:
    """The live gateway serving this test's database, settings and clock."""
    settings.public_base_url = shared_gateway.url
    if settings.rasa_url == Settings.model_fields["rasa_url"].default:
        # No Rasa in this test unless it asks for `gateway_with_rasa`: a closed port.
        settings.rasa_url = f"http://127.0.0.1:{closed_port()}"
    # No idle keep-alive connections: the client lives in the server's event loop
    # and is dropped with the test, so nothing may be left open behind it.
    http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0),
                             timeout=httpx.Timeout(5.0, connect=2.0))
    services = build_services(settings, engine=engine, clock=clock, http=http)
    previous = shared_gateway.app.state.services
    shared_gateway.app.state.services = services
    try:
        yield shared_gateway
    finally:
        shared_gateway.app.state.services = previous
        services.http_sync.close()


@pytest.fixture
def gateway_with_rasa(rasa_stack: RasaStack, settings: Settings,
                      request: pytest.FixtureRequest) -> LiveServer:
    """The live gateway talking to the real Rasa server and action server."""
    settings.rasa_url = rasa_stack.rasa_url
    settings.rasa_token = SecretStr(rasa_stack.token)
    settings.actions_url = rasa_stack.actions_url
    server: LiveServer = request.getfixturevalue("gateway")
    return server
