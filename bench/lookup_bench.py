"""Account lookups and the balance summary on a 100,000-account database.

Seeds the demo district with N generated accounts (12 months of bills) into a
fresh SQLite file and a fresh PostgreSQL schema, then times each lookup over
random existing accounts and prints median and p95 in milliseconds.

    .venv/bin/python bench/lookup_bench.py [--accounts 100000] [--samples 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accounts.db import make_engine, make_sessionmaker
from accounts.migrate import upgrade
from accounts.models import Account, ContactPoint
from accounts.seed import seed_demo
from accounts.services.balance import balance_summary
from accounts.services.lookup import (
    find_account_by_number,
    find_accounts_by_email,
    find_accounts_by_phone,
)

PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 11, 24)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def prepare(url: str, accounts: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        seed_demo(session=session, today=TODAY, anchor=datetime(2026, 11, 24, 18, tzinfo=UTC),
                  generated=accounts)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    print(f"  seeded {accounts:,} accounts in {time.perf_counter() - started:.1f}s", flush=True)
    engine.dispose()


def measure(url: str, samples: int) -> dict[str, tuple[float, float]]:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    rng = random.Random(7)
    with factory() as session:
        numbers = list(session.scalars(select(Account.number)))
        values = select(ContactPoint.value)
        phones = list(session.scalars(values.where(ContactPoint.kind == "phone")))
        emails = list(session.scalars(values.where(ContactPoint.kind == "email")))
    cases: dict[str, Callable[[object], object]] = {}
    results: dict[str, tuple[float, float]] = {}
    with factory() as session:
        accounts = {n: find_account_by_number(session=session, number=n)
                    for n in rng.sample(numbers, min(samples, len(numbers)))}
        cases = {
            "by phone": lambda _: find_accounts_by_phone(session=session, phone=rng.choice(phones)),
            "by email": lambda _: find_accounts_by_email(session=session, email=rng.choice(emails)),
            "by account number": lambda _: find_account_by_number(session=session,
                                                                  number=rng.choice(numbers)),
            "balance summary": lambda _: balance_summary(
                session=session, account=accounts[rng.choice(list(accounts))], today=TODAY),
        }
        for name, call in cases.items():
            for _ in range(50):  # warm-up
                call(None)
            timings = []
            for _ in range(samples):
                session.expunge_all() if name != "balance summary" else None
                started = time.perf_counter()
                call(None)
                timings.append((time.perf_counter() - started) * 1000)
            results[name] = (statistics.median(timings), percentile(timings, 95))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(f"host: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if not args.skip_postgres:
            schema = "lookup_bench"
            admin = make_engine(PG)
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            targets.append(("PostgreSQL", f"{PG}?options=-csearch_path%3D{schema}"))
        for label, url in targets:
            print(f"{label}:", flush=True)
            prepare(url, args.accounts)
            for name, (median, p95) in measure(url, args.samples).items():
                print(f"  {name:<18} median {median:6.2f} ms   p95 {p95:6.2f} ms")
        if not args.skip_postgres:
            with admin.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS lookup_bench CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
