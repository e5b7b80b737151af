"""Engine, sessions and the declarative base shared by every package."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}  # noqa: RUF012


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached (a system error, not the customer's)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys and WAL for concurrent readers."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # A deferred transaction that reads, then writes, fails at once with
            # "database is locked" when another writer got there first (SQLite
            # cannot wait without risking deadlock). Writers (see writer_engine)
            # take the write lock at BEGIN and so queue on busy_timeout instead.
            # Other transactions keep the driver's lazy BEGIN (before the first
            # write), so their reads see what others committed meanwhile.
            dbapi_conn = connection.connection.dbapi_connection
            if connection.get_execution_options().get(_IMMEDIATE, False):
                dbapi_conn.isolation_level = None
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                dbapi_conn.isolation_level = ""

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


_IMMEDIATE = "sqlite_begin_immediate"


def writer_engine(engine: Engine) -> Engine:
    """``engine`` for processes that write concurrently (gateway, workers).

    On SQLite every transaction takes the write lock when it begins, so
    concurrent writers wait for each other instead of failing; other databases
    are unaffected. Read-only callers that hold a session open for long (tests,
    reports) should use the plain engine, which does not block writers.
    """
    return engine.execution_options(**{_IMMEDIATE: True})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request from the app's session factory."""
    factory: sessionmaker[Session] = request.app.state.services.session_factory
    with factory() as session:
        yield session


# Closed when the handler returns, before the response is sent: a test (or a
# shutdown) that disposes the engine right after a response finds no open connection.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
