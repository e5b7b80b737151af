"""Concurrent writers on the same database wait for each other instead of failing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from accounts.db import make_sessionmaker, writer_engine
from accounts.models import ContactLog


def test_read_then_write_transactions_do_not_collide(engine: Engine) -> None:
    factory = make_sessionmaker(writer_engine(engine))
    now = datetime(2026, 11, 24, 18, tzinfo=UTC)

    def read_then_write(index: int) -> None:
        for step in range(10):
            with factory() as session:
                # The read first: on SQLite this is what used to fail with
                # "database is locked" when another writer committed meanwhile.
                session.scalar(select(func.count(ContactLog.id)))
                session.add(ContactLog(at=now, direction="internal", channel="system",
                                       kind="note", body=f"{index}-{step}", meta={}))
                session.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(read_then_write, range(8)))
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count(ContactLog.id))) == 80
