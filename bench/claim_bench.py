"""50 concurrent CSRs claiming from 10,000 tickets on PostgreSQL.

Creates a fresh PostgreSQL schema, migrates it, inserts N tickets (mixed
priorities and due times) and M CSR users, then starts M threads, each with its
own database session, that take "the next ticket" (``escalation.queue.claim_next``:
``SELECT ... FOR UPDATE SKIP LOCKED`` + a conditional ``UPDATE`` + a contact-log
entry, committed) until the queue is empty. Prints claims per second and the
claim latency, then checks that every ticket was claimed exactly once (by the
claims the threads saw, by the tickets table and by the contact log) and exits
non-zero if not. ``--race`` also runs the same number of threads all claiming
the *same* tickets by id, and checks each has exactly one holder.

    .venv/bin/python bench/claim_bench.py [--tickets 10000] [--csrs 50] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accounts.db import make_engine, make_sessionmaker
from accounts.migrate import upgrade
from accounts.models import ContactLog, CsrUser, Ticket
from escalation import queue

PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
SCHEMA = "claim_bench"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def prepare(url: str, tickets: int, csrs: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(CsrUser),
            [
                {
                    "username": f"bench{n:03d}",
                    "name": f"Bench CSR {n}",
                    # Mostly CSR I/II, so the level filter is part of every claim.
                    "level": ("I", "II", "III", "Senior", "manager")[n % 5],
                    "password_hash": "x",
                    "is_demo": False,
                    "active": True,
                    "created_at": NOW,
                }
                for n in range(csrs)
            ],
        )
        rows = [
            {
                "status": "new",
                "level": "I",
                "priority": n % 4,
                "intent": "human_agent",
                "reason": "",
                "channel": ("sms", "voice", "email")[n % 3],
                "verification_tier": 0,
                "language": "en",
                "summary": f"bench ticket {n}",
                "customer_address": "",
                "callback_number": "",
                "attachments": [],
                "due_at": NOW + timedelta(minutes=n % 977),
                "created_at": NOW,
                "updated_at": NOW,
                "disposition": "",
                "resolution_note": "",
            }
            for n in range(tickets)
        ]
        for start in range(0, len(rows), 2000):
            connection.execute(insert(Ticket), rows[start : start + 2000])
        connection.execute(text("ANALYZE"))
    engine.dispose()


def run_claims(url: str, csrs: int) -> tuple[list[tuple[int, int]], list[float], float]:
    engine = make_engine(url, pool_size=csrs + 2, max_overflow=0)
    factory = make_sessionmaker(engine)
    with factory() as session:
        user_ids = list(session.scalars(select(CsrUser.id).order_by(CsrUser.id)))
    claims: list[tuple[int, int]] = []
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(user_ids) + 1)

    def worker(user_id: int) -> None:
        mine: list[tuple[int, int]] = []
        waits: list[float] = []
        try:
            with factory() as session:
                user = session.get(CsrUser, user_id)
                assert user is not None
                session.commit()
                barrier.wait()
                while True:
                    started = time.perf_counter()
                    ticket = queue.claim_next(session=session, user=user, now=NOW)
                    session.commit()
                    if ticket is None:
                        break
                    waits.append(time.perf_counter() - started)
                    mine.append((ticket.id, user_id))
        except BaseException as error:
            errors.append(error)
        with lock:
            claims.extend(mine)
            latencies.extend(waits)

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    engine.dispose()
    if errors:
        raise SystemExit(f"worker failed: {errors[0]!r}")
    return claims, latencies, elapsed


def run_race(url: str, csrs: int, targets: int) -> tuple[int, int]:
    """All CSRs claim the same ``targets`` tickets by id, in the same order."""
    engine = make_engine(url, pool_size=csrs + 2, max_overflow=0)
    factory = make_sessionmaker(engine)
    with factory() as session:
        session.execute(
            text("UPDATE tickets SET status='new', claimed_by_id=NULL, claimed_at=NULL")
        )
        session.commit()
        ticket_ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id).limit(targets)))
        user_ids = list(session.scalars(select(CsrUser.id).where(CsrUser.level != "I")))
    wins: Counter[int] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(user_ids))

    def worker(user_id: int) -> None:
        with factory() as session:
            user = session.get(CsrUser, user_id)
            assert user is not None
            session.commit()
            barrier.wait()
            for ticket_id in ticket_ids:
                try:
                    queue.claim(session=session, user=user, ticket_id=ticket_id, now=NOW)
                    session.commit()
                    with lock:
                        wins[ticket_id] += 1
                except queue.Conflict:
                    session.rollback()

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    doubled = sum(1 for count in wins.values() if count > 1)
    return len(wins), doubled


def verify(url: str, claims: list[tuple[int, int]], tickets: int) -> list[str]:
    problems: list[str] = []
    ids = [ticket_id for ticket_id, _ in claims]
    doubled = [tid for tid, count in Counter(ids).items() if count > 1]
    if doubled:
        problems.append(f"{len(doubled)} tickets handed to two CSRs (e.g. {doubled[:5]})")
    if len(set(ids)) != tickets:
        problems.append(f"{len(set(ids))} distinct tickets claimed, expected {tickets}")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        unclaimed = session.scalar(
            select(func.count(Ticket.id)).where(Ticket.claimed_by_id.is_(None))
        )
        if unclaimed:
            problems.append(f"{unclaimed} tickets left unclaimed")
        holders = dict(session.execute(select(Ticket.id, Ticket.claimed_by_id)).all())
        wrong = [tid for tid, uid in claims if holders.get(tid) != uid]
        if wrong:
            problems.append(f"{len(wrong)} claims disagree with the tickets table")
        logged = session.execute(
            select(ContactLog.ticket_id, func.count(ContactLog.id))
            .where(ContactLog.kind == "csr_action")
            .group_by(ContactLog.ticket_id)
            .having(func.count(ContactLog.id) > 1)
        ).all()
        if logged:
            problems.append(f"{len(logged)} tickets have more than one claim in the contact log")
    engine.dispose()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--csrs", type=int, default=50)
    parser.add_argument("--race", type=int, default=200, help="tickets in the same-id race")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    args = parser.parse_args()

    admin = make_engine(PG)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        server = connection.execute(text("SHOW server_version")).scalar()
    url = f"{PG}?options=-csearch_path%3D{SCHEMA}"
    print(
        f"PostgreSQL {server}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    started = time.perf_counter()
    prepare(url, args.tickets, args.csrs)
    print(
        f"prepared {args.tickets:,} tickets and {args.csrs} CSRs in "
        f"{time.perf_counter() - started:.1f}s"
    )

    claims, latencies, elapsed = run_claims(url, args.csrs)
    per_csr = Counter(uid for _, uid in claims)
    print(
        f"claim_next: {len(claims):,} claims by {args.csrs} concurrent CSRs in {elapsed:.2f}s "
        f"= {len(claims) / elapsed:,.0f} claims/s"
    )
    print(
        f"  latency per claim (incl. commit): median {statistics.median(latencies) * 1000:.1f} ms,"
        f" p95 {percentile(latencies, 95) * 1000:.1f} ms,"
        f" p99 {percentile(latencies, 99) * 1000:.1f} ms"
    )
    print(f"  claims per CSR: min {min(per_csr.values())}, max {max(per_csr.values())}")
    problems = verify(url, claims, args.tickets)

    if args.race:
        won, doubled = run_race(url, args.csrs, args.race)
        print(
            f"same-id race: {args.csrs - args.csrs // 5} CSRs x {args.race} tickets: "
            f"{won} tickets won, {doubled} won twice"
        )
        if won != args.race or doubled:
            problems.append(f"same-id race: {won} won, {doubled} doubled")

    if not args.keep:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    admin.dispose()
    if problems:
        for problem in problems:
            print(f"FAIL: {problem}")
        return 1
    print("OK: no ticket was claimed twice; every ticket was claimed exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
