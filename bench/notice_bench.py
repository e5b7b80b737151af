"""A notice to 10,000 affected customers: time to enqueue and the paced send schedule.

Seeds the demo district with N generated accounts into a fresh SQLite file (and
a fresh PostgreSQL schema when PostgreSQL answers), opts a sample of numbers
and addresses out, creates a district-wide outage notice and announces it.
Prints: time to find recipients and enqueue, the SMS schedule (first and last
send, messages and segments per second, the busiest minute), the quiet-hours
hold of an evening notice; fails if two messages are closer than the sending
rate allows or if any opted-out address is in the outbox.

    .venv/bin/python bench/notice_bench.py [--accounts 10000] [--rate 1.0] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accounts.business_calendar import BusinessCalendar
from accounts.db import make_engine, make_sessionmaker
from accounts.district import load_district
from accounts.migrate import upgrade
from accounts.models import ContactPoint, OutboundMessage
from accounts.seed import seed_demo
from accounts.services.consent import opted_out_addresses, record_opt_out
from accounts.settings import Settings
from accounts.sms_text import segment_count
from notices.announce import announce_notice
from notices.lifecycle import create_notice

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 11, 24)
OFFICE_HOURS = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # Tuesday 10:00 in the district
EVENING = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # Tuesday 20:30: runs into quiet hours
ZONES = ["North", "East", "South", "West", "Central"]


def prepare(url: str, accounts: int, opt_out_share: float) -> int:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        seed_demo(session=session, today=TODAY, anchor=OFFICE_HOURS, generated=accounts, months=1)
        points = session.execute(
            select(ContactPoint.kind, ContactPoint.value).order_by(ContactPoint.id)
        ).all()
        rng = random.Random(7)
        opted = 0
        for kind, value in points:
            if rng.random() < opt_out_share:
                record_opt_out(
                    session=session,
                    address=value,
                    channel="sms" if kind == "phone" else "email",
                    now=OFFICE_HOURS,
                    via="bench",
                )
                opted += 1
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    print(
        f"  seeded {accounts:,} accounts, opted out {opted:,} addresses "
        f"in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    engine.dispose()
    return opted


def run(url: str, label: str, rate: float) -> None:
    district = load_district(ROOT / "bot" / "district.yml")
    calendar = BusinessCalendar(district)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    settings = settings.model_copy(
        update={"twilio": settings.twilio.model_copy(update={"sms_per_second": rate})}
    )
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    for when, name in ((OFFICE_HOURS, "office hours"), (EVENING, "8:30 PM")):
        with sessions() as session:
            notice = create_notice(
                session=session,
                now=when,
                kind="unplanned_outage",
                title=f"District-wide pressure loss ({name})",
                zones=ZONES,
                text_en="Low pressure or no water across the district while crews repair a "
                "transmission main.",
                text_es="Baja presión o sin agua en todo el distrito mientras reparamos una "
                "tubería principal.",
                estimated_restoration_at=when + timedelta(hours=4),
            )
            started = time.perf_counter()
            report = announce_notice(
                session=session,
                notice=notice,
                event="created",
                now=when,
                calendar=calendar,
                settings=settings,
            )
            session.commit()
            elapsed = time.perf_counter() - started
            rows = session.scalars(
                select(OutboundMessage).where(OutboundMessage.notice_id == notice.id)
            ).all()
            blocked = {
                "sms": opted_out_addresses(session=session, channel="sms"),
                "email": opted_out_addresses(session=session, channel="email"),
            }
            leaked = [r for r in rows if r.to_address in blocked[r.channel]]
            sms = sorted((r for r in rows if r.channel == "sms"), key=lambda r: r.next_attempt_at)
            segments = sum(segment_count(r.body) for r in sms)
            first, last = sms[0].next_attempt_at, sms[-1].next_attempt_at
            span = (last - first).total_seconds()
            # One API call carries a whole message; the next may start only after
            # the previous message's segments have had their share of the rate.
            too_close = sum(
                1
                for before, after in itertools.pairwise(sms)
                if (after.next_attempt_at - before.next_attempt_at).total_seconds()
                < segment_count(before.body) / rate - 1e-6
            )
            per_minute: Counter[int] = Counter()
            for row in sms:
                # Segment k of a message has its share of the rate k/rate seconds in.
                start = (row.next_attempt_at - first).total_seconds()
                for k in range(segment_count(row.body)):
                    per_minute[int((start + k / rate) // 60)] += 1
            busiest = max(per_minute.values())
            tz = calendar.tz
            print(
                f"[{label}] notice at {name}: {report.recipients:,} recipients "
                f"({report.sms_rows:,} SMS rows / {segments:,} segments, "
                f"{report.email_rows:,} emails); skipped {report.opted_out:,} opted out, "
                f"{report.no_contact:,} without contact"
            )
            print(f"  enqueue: {elapsed:.2f}s ({report.recipients / elapsed:,.0f} recipients/s)")
            print(
                f"  SMS schedule: first {first.astimezone(tz):%a %H:%M:%S}, last "
                f"{last.astimezone(tz):%a %H:%M:%S} local; {len(sms) / max(span, 1):.2f} "
                f"messages/s, {segments / max(span, 1):.2f} segments/s over the span; busiest "
                f"minute {busiest} segments (limit {rate * 60:.0f}); held for quiet hours: "
                f"{report.held:,}"
            )
            print(f"  opted-out addresses in the outbox: {len(leaked)}")
            if leaked:
                raise SystemExit("FAIL: an opted-out address was queued")
            if too_close:
                raise SystemExit(f"FAIL: {too_close} messages closer than the sending rate allows")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1.0, help="SMS segments per second")
    parser.add_argument("--opt-out-share", type=float, default=0.03)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    print(
        f"notice bench: {args.accounts:,} generated accounts, Python "
        f"{platform.python_version()}, {platform.machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        prepare(url, args.accounts, args.opt_out_share)
        run(url, "sqlite", args.rate)
    if args.sqlite_only:
        return
    from tests.utils.database import create_pg_schema, drop_pg_schema, postgres_reachable

    reason = postgres_reachable()
    if reason:
        print(f"[postgresql] skipped: {reason}")
        return
    schema = f"notice_bench_{os.getpid()}"
    url = create_pg_schema(schema)
    try:
        prepare(url, args.accounts, args.opt_out_share)
        run(url, "postgresql", args.rate)
    finally:
        drop_pg_schema(schema)


if __name__ == "__main__":
    main()
