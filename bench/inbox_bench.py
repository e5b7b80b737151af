"""Inbox triage throughput and per-email latency on a 5,000-email backlog.

Starts a real Dovecot (the test fixture's configuration) and a recording
aiosmtpd, seeds the demo district into a fresh database (SQLite file by
default, a PostgreSQL schema with ``--postgres``), delivers a realistic mix of
customer mail into the IMAP inbox, then lets one worker clear the backlog the
way ``assistant inbox run`` does (batches of 100: fetch, triage + commit, move
to ``Triaged/...``, then send the queued replies over SMTP).

It prints emails/s, the time to clear the backlog, and per-email latency
(triage + commit, including any wait for the NLU's reading) percentiles, and
writes them to docs/benchmarks.md, section "Inbox".

The NLU: ``--start-rasa`` starts the real Rasa server on models/district.tar.gz
the way tests/utils/rasa.py does; ``--rasa-url`` (with ``--rasa-token``) uses a
running one; with neither, the keyword stand-in of the tests is used and the
report says so. ``--profile FILE`` writes a cProfile of the worker thread.

    .venv/bin/python bench/inbox_bench.py --start-rasa [--emails 5000] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import platform
import pstats
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accounts.clock import FixedClock  # noqa: E402
from accounts.db import make_engine, make_sessionmaker  # noqa: E402
from accounts.migrate import upgrade  # noqa: E402
from accounts.models import OutboundMessage, ProcessedEmail, Ticket  # noqa: E402
from accounts.seed import seed_demo  # noqa: E402
from accounts.settings import Settings  # noqa: E402
from gateway.services import build_services  # noqa: E402
from inbox.classify import Classifier, RasaClassifier  # noqa: E402
from inbox.reply import SmtpSender  # noqa: E402
from inbox.service import CLASSIFY_THREADS, build_inbox  # noqa: E402
from inbox.sources import FetchedMail, Outcome  # noqa: E402
from tests.inbox import corpus  # noqa: E402
from tests.inbox.harness import RuleClassifier, imap_source  # noqa: E402
from tests.utils.dovecot import DovecotServer, find_dovecot  # noqa: E402
from tests.utils.rasa import RASA_TOKEN, RasaStack, stop_stack  # noqa: E402
from tests.utils.servers import free_port  # noqa: E402
from tests.utils.smtp_server import SmtpTestServer  # noqa: E402

PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # a Tuesday, 10 AM in the district
TARGET_SECONDS = 300


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def hardware() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "unknown RAM"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()} "
        f"(load average at start: {load})"
    )


def backlog(count: int, rng: random.Random) -> list[bytes]:
    """A realistic mix: mostly questions the bot answers, a share of cases and of machine mail."""
    customers = [f"customer{1100001 + i}@example.com" for i in range(1400)]
    mix = [
        (
            30,
            lambda i: corpus.plain(
                sender=f"resident{i}@example.org",
                subject="No water",
                body="Is there an outage on Oak Street? We have no water.",
                message_id=f"<b-{i}@bench>",
            ),
        ),
        (
            20,
            lambda i: corpus.plain(
                sender=rng.choice(customers),
                subject="My balance",
                body="Hi, how much do I owe this month?\n\nThanks",
                message_id=f"<b-{i}@bench>",
            ),
        ),
        (
            15,
            lambda i: corpus.plain(
                sender=f"resident{i}@example.org",
                subject="Bill too high",
                body="My bill is four times higher than usual, please check.",
                message_id=f"<b-{i}@bench>",
            ),
        ),
        (
            10,
            lambda i: corpus.plain(
                sender=f"resident{i}@example.org",
                subject="Rebates",
                body="Do you have a rebate for a new toilet?",
                message_id=f"<b-{i}@bench>",
            ),
        ),
        (
            10,
            lambda i: corpus.plain(
                sender=f"resident{i}@example.org",
                subject="Office",
                body="When is the office open on Friday?",
                message_id=f"<b-{i}@bench>",
            ),
        ),
        (
            5,
            lambda i: corpus.auto_reply().replace(
                b"<ooo@mail.example.com>", f"<b-{i}@bench>".encode()
            ),
        ),
        (
            5,
            lambda i: corpus.bounce_dsn(f"gone{i}@example.net").replace(
                b"<dsn-1@mx.valleysprings-water.example.com>", f"<b-{i}@bench>".encode()
            ),
        ),
        (
            5,
            lambda i: corpus.nested_multipart().replace(
                b"<nested@mail.example.com>", f"<b-{i}@bench>".encode()
            ),
        ),
    ]
    weights = [w for w, _ in mix]
    builders = [b for _, b in mix]
    return [rng.choices(builders, weights)[0](i) for i in range(count)]


def prepare_database(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        seed_demo(session=session, today=NOW.date(), anchor=NOW, generated=2000, months=12)
        session.commit()
    engine.dispose()


def run(url: str, label: str, emails: int, classifier_factory: object, workdir: Path) -> dict:
    dovecot_binary = find_dovecot()
    if dovecot_binary is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
    prepare_database(url)
    server = DovecotServer(dovecot_binary)
    smtp = SmtpTestServer()
    server.start()
    smtp.start()
    try:
        user = server.add_user()
        raws = backlog(emails, random.Random(7))
        started = time.perf_counter()
        client = user.client()
        for raw in raws:
            client.append("INBOX", raw)
        client.logout()
        print(
            f"  [{label}] delivered {emails:,} emails to Dovecot in "
            f"{time.perf_counter() - started:.1f}s",
            flush=True,
        )

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            var_dir=workdir / "var",
            district_file=ROOT / "bot" / "district.yml",
        )
        clock = FixedClock(NOW)
        context = build_services(settings, clock=clock)
        with httpx.Client() as http, ThreadPoolExecutor(CLASSIFY_THREADS) as executor:
            classifier = classifier_factory(http)  # type: ignore[operator]
            inbox = build_inbox(
                context,
                source=imap_source(user),
                sender=SmtpSender(host=smtp.host, port=smtp.port),
                classifier=classifier,
                executor=executor,
            )
            worker = inbox.worker
            latencies: list[float] = []
            original = worker.process

            def timed(item: FetchedMail, report: object = None, **kwargs: object) -> Outcome:
                begin = time.perf_counter()
                try:
                    return original(item, report, **kwargs)  # type: ignore[arg-type]
                finally:
                    latencies.append(time.perf_counter() - begin)

            worker.process = timed  # type: ignore[method-assign]
            sending: list[float] = []
            drain = inbox.outbox.drain_once

            async def timed_drain(*, limit: int = 200) -> object:
                begin = time.perf_counter()
                try:
                    return await drain(limit=limit)
                finally:
                    sending.append(time.perf_counter() - begin)

            inbox.outbox.drain_once = timed_drain  # type: ignore[method-assign,assignment]

            def cleared() -> bool:
                with context.session_factory() as session:
                    done = session.scalar(select(func.count()).select_from(ProcessedEmail))
                    waiting = session.scalar(
                        select(func.count())
                        .select_from(OutboundMessage)
                        .where(OutboundMessage.status.in_(("queued", "sending")))
                    )
                return done == emails and waiting == 0

            async def clear() -> None:
                stop = asyncio.Event()

                async def monitor() -> None:
                    while not cleared():
                        await asyncio.sleep(0.25)
                    stop.set()

                watcher = asyncio.create_task(monitor())
                await inbox.run(stop)
                await watcher

            # `assistant inbox run`'s own loop: triage in a thread, sending beside it.
            profiler = cProfile.Profile() if PROFILE[0] else None
            started = time.perf_counter()
            if profiler is not None:
                # The worker's thread: profile it (asyncio.to_thread runs it elsewhere).
                original_pass = worker.run_pass

                def profiled_pass(**kwargs: object) -> object:
                    profiler.enable()
                    try:
                        return original_pass(**kwargs)  # type: ignore[arg-type]
                    finally:
                        profiler.disable()

                worker.run_pass = profiled_pass  # type: ignore[method-assign,assignment]
            asyncio.run(clear())
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.dump_stats(f"{PROFILE[0]}.{label}")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
            sent = len(smtp.messages)
        asyncio.run(context.http.aclose())
        with context.session_factory() as session:
            processed = session.scalar(select(func.count()).select_from(ProcessedEmail)) or 0
            outcomes = dict(
                session.execute(
                    select(ProcessedEmail.outcome, func.count()).group_by(ProcessedEmail.outcome)
                ).all()
            )
            broken = (
                session.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.reason == "email: processing error")
                )
                or 0
            )
            queued = (
                session.scalar(
                    select(func.count())
                    .select_from(OutboundMessage)
                    .where(OutboundMessage.status != "sent")
                )
                or 0
            )
        counts = user.folder_counts()
        received = len(smtp.messages)
        context.engine.dispose()
    finally:
        smtp.stop()
        server.stop()
    assert processed == emails, f"processed {processed} of {emails}"
    assert broken == 0, f"{broken} emails failed triage"
    assert outcomes.get("escalated", 0) < emails / 2, f"suspicious outcomes {outcomes}"
    assert counts["INBOX"] == 0, counts
    return {
        "label": label,
        "emails": emails,
        "elapsed": elapsed,
        "rate": emails / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": max(latencies) * 1000,
        "outcomes": outcomes,
        "triage_s": sum(latencies),
        "sending_s": sum(sending),
        "replies": received,
        "sent": sent,
        "unsent": queued,
    }


def uptime() -> str:
    """``uptime``'s line: how busy the machine was."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def write_report(
    results: list[dict], classifier_label: str, machine: str, rasa: bool, loads: list[str]
) -> str:
    lines = [
        "## Inbox",
        "",
        "`bench/inbox_bench.py`: a backlog of emails in a real Dovecot (IMAP on loopback) is",
        "cleared by one worker the way `assistant inbox run` does it (batches of 100: one",
        "FETCH of the batch, parse, the NLU reads the batch ahead on a 2-thread pool while",
        "the worker triages and commits each email, one MOVE per `Triaged/...` folder, then",
        "the queued replies go over SMTP to aiosmtpd). Latency is per email: triage + commit",
        "(waiting for its NLU reading if it is not ready); parsing is done for the batch.",
        "",
        f"- Hardware: {machine}",
        *(
            f"- `uptime` {when}: {line}"
            for when, line in zip(("before", "after"), loads, strict=True)
        ),
        f"- Classifier: {classifier_label}",
        f"- Target: backlog cleared in under {TARGET_SECONDS // 60} minutes",
        "",
        "| database | emails | cleared in | emails/s | p50 ms | p95 ms | p99 ms | max ms |"
        " triage s | SMTP s | replies sent | outcomes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        lines.append(
            f"| {r['label']} | {r['emails']:,} | {r['elapsed']:.1f} s | {r['rate']:.1f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
            f"{r['triage_s']:.0f} | {r['sending_s']:.0f} | {r['replies']:,} | {outcomes} |"
        )
    lines += ["", *NOTES]
    if not rasa:
        lines.append("")
        lines.append(
            "- These figures exclude Rasa (keyword stand-in); run with `--start-rasa` for the "
            "real thing."
        )
    lines.append("")
    return "\n".join(lines) + "\n"


NOTES = [
    "What the profile (`--profile`, cProfile of the worker thread) showed and what was cut:",
    "",
    "- Rasa round-trips were the largest cost (about 20 ms each on this loaded machine, one",
    "  per email plus one per sentence of answerable multi-sentence mail, waited for one",
    "  after another). The batch is now read ahead by two threads, so Rasa works on one",
    "  core while the worker parses and writes on the other.",
    "- The already-processed check (Message-ID idempotency) was one query per email; it is",
    "  one query per batch now (still re-checked inside the email's transaction by the",
    "  unique constraint).",
    "- Already batched before: IMAP FETCH of the whole batch (size-capped chunks), one MOVE",
    "  per folder after the commits, the district file read once (`AppContext.district`),",
    "  one HTTP client and one SMTP connection per drain.",
    "- Left as they are: one transaction per email (a message counts as processed only",
    "  after its own commit), one commit per sent reply (fewest duplicates if the sender",
    "  dies), and the standard library's modern email parser (~8 ms per email, mostly",
    "  header objects).",
    "- Steps measured on 1,000 emails, SQLite, real Rasa, load average 6-7 from other",
    "  work on the machine: one parse per email, one after another: 58.9 s (17.0/s);",
    "  plus the per-sentence reading that finds a second request (multi-topic mail must",
    "  go to a person): 83.0 s under cProfile; batch read ahead on two threads and one",
    "  idempotency query per batch: 38.1 s (26.3/s).",
]


def save(section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    path.parent.mkdir(exist_ok=True)
    current = path.read_text() if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(r"^## Inbox\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: section, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    path.write_text(updated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--rasa-url", default="", help="classify with this Rasa server")
    parser.add_argument("--rasa-token", default="")
    parser.add_argument(
        "--start-rasa",
        action="store_true",
        help="start the real Rasa server on models/district.tar.gz (as tests/utils/rasa.py does)",
    )
    parser.add_argument("--profile", default="", help="write a cProfile of the triage here")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()
    PROFILE[0] = args.profile

    with contextlib.ExitStack() as stack:
        if args.start_rasa:
            rasa = stack.enter_context(real_rasa())
            args.rasa_url, args.rasa_token = rasa.rasa_url, rasa.token
        return bench(args)


PROFILE = [""]


@contextlib.contextmanager
def real_rasa() -> Iterator[RasaStack]:
    """Rasa alone (``/model/parse`` needs no action server), started like the test fixture."""
    workdir = Path(tempfile.mkdtemp(prefix="inbox-bench-rasa-"))
    rasa = RasaStack(
        rasa_url=f"http://127.0.0.1:{free_port()}",
        actions_url=f"http://127.0.0.1:{free_port()}",
        token=RASA_TOKEN,
        workdir=workdir,
        gateway_url="http://127.0.0.1:9",
    )
    started = time.perf_counter()
    rasa.start_rasa()
    print(f"  Rasa loaded the model in {time.perf_counter() - started:.0f}s", flush=True)
    try:
        yield rasa
    finally:
        stop_stack(rasa)


def bench(args: argparse.Namespace) -> int:
    if args.rasa_url:

        def factory(http: httpx.Client) -> Classifier:
            return RasaClassifier(http=http, base_url=args.rasa_url, token=args.rasa_token)

        classifier_label = (
            "the real Rasa server with models/district.tar.gz (started as tests/utils/rasa.py "
            "does), `POST /model/parse`"
        )
    else:

        def factory(http: httpx.Client) -> Classifier:
            return RuleClassifier()

        classifier_label = (
            "keyword stand-in (tests/inbox/harness.py), so these figures exclude Rasa; "
            "Rasa parses about 35 texts/s here (shared/notes/rasa-3.6.md)"
        )

    machine = hardware()
    load_before = uptime()
    print(machine, load_before, sep="\n", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="inbox-bench-") as tmp:
        work = Path(tmp)
        (work / "sqlite").mkdir()
        results.append(
            run(f"sqlite:///{work / 'bench.db'}", "SQLite", args.emails, factory, work / "sqlite")
        )
        if args.postgres:
            schema = "inbox_bench"
            admin = make_engine(PG)
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            (work / "pg").mkdir()
            try:
                results.append(
                    run(
                        f"{PG}?options=-csearch_path%3D{schema}",
                        "PostgreSQL",
                        args.emails,
                        factory,
                        work / "pg",
                    )
                )
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                admin.dispose()
    for r in results:
        verdict = "OK" if r["elapsed"] < TARGET_SECONDS else "TOO SLOW"
        print(
            f"{r['label']}: {r['emails']:,} emails in {r['elapsed']:.1f}s = {r['rate']:.1f}/s "
            f"[{verdict}]; latency p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
            f"p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms; triage {r['triage_s']:.0f}s, "
            f"SMTP {r['sending_s']:.0f}s; replies received {r['replies']:,}; "
            f"{r['outcomes']}"
        )
    section = write_report(
        results, classifier_label, machine, bool(args.rasa_url), [load_before, uptime()]
    )
    if not args.no_write:
        save(section)
        print("wrote docs/benchmarks.md (section Inbox)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
