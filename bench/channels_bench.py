"""Webhook-to-TwiML latency of the Twilio channels, and the same turns sent to Rasa alone.

Starts the gateway the way production does (``uvicorn gateway.app:create_app
--factory`` in its own process, settings from the environment) on a fresh,
migrated and seeded SQLite file (or ``--database-url``), then drives SMS turns
(``POST /twilio/sms``) and voice turns (``POST /twilio/voice/turn`` with
speech) signed exactly as Twilio signs them, with 1 and with 20 conversations
at once. In the same run the same messages go straight to Rasa's REST webhook,
so the gateway's overhead shows as a ratio (target: the gateway adds < 25 %).

Rasa: ``--rasa URL`` uses a running Rasa server; ``--rasa auto`` (default)
starts the real Rasa and action server when ``models/district.tar.gz`` exists
and otherwise a local server on Rasa's REST protocol that answers after
``--fake-latency-ms`` (the report says which one was used).

    .venv/bin/python bench/channels_bench.py [--turns 200] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accounts.db import make_engine, make_sessionmaker  # noqa: E402
from accounts.migrate import upgrade  # noqa: E402
from accounts.seed import seed_demo  # noqa: E402
from tests.utils.servers import free_port, wait_for_port  # noqa: E402

TOKEN = "bench-auth-token"
RASA_TOKEN = "bench-rasa-token"
PUBLIC = "https://bench.example.org"
SMS_TEXTS = ["what is my balance", "is there an outage on my street", "when is my bill due"]
SPEECH = ["what is my balance", "is there a water outage", "I have a question about my bill"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# -- a server on Rasa's REST protocol (when no trained model is around) ---------


def serve_fake_rasa(port: int, latency: float) -> None:
    """Answer ``/webhooks/rest/webhook`` after ``latency`` seconds (runs until killed)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without this, Nagle's
            # algorithm and delayed ACKs add ~40 ms to every answer.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            time.sleep(latency)
            body = json.dumps(
                [
                    {
                        "recipient_id": payload.get("sender"),
                        "text": "Your balance is $84.20, due December 6. Anything else?",
                    }
                ]
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            body = b'{"model_file": "fake"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # 20 clients connecting at once overflow the default 5
        daemon_threads = True

    Server(("127.0.0.1", port), Handler).serve_forever()


# -- set-up ------------------------------------------------------------------------


def prepare_database(url: str, accounts: int) -> list[str]:
    """Migrate and seed; returns phone numbers of seeded customers."""
    from sqlalchemy import select

    from accounts.models import ContactPoint

    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        seed_demo(session=session, today=now.date(), anchor=now, generated=accounts, months=3)
        session.commit()
        phones = list(
            session.scalars(select(ContactPoint.value).where(ContactPoint.kind == "phone"))
        )
    engine.dispose()
    return phones


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# -- load ------------------------------------------------------------------------


def signed(url: str, params: dict[str, str]) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params),
    }


async def sms_turn(http: httpx.AsyncClient, gateway: str, phone: str, n: int) -> float:
    params = {
        "MessageSid": f"SM{os.urandom(16).hex()}",
        "From": phone,
        "To": "+15305550100",
        "Body": SMS_TEXTS[n % len(SMS_TEXTS)],
        "NumMedia": "0",
    }
    started = time.perf_counter()
    response = await http.post(
        f"{gateway}/twilio/sms",
        content=urlencode(params),
        headers=signed(f"{PUBLIC}/twilio/sms", params),
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "<Message>" not in response.text:
        raise RuntimeError(f"bad SMS answer {response.status_code}: {response.text[:200]}")
    return elapsed


class VoiceCall:
    """One call: started once (not timed), then speech turns on the latest Gather action."""

    def __init__(self, phone: str) -> None:
        self.phone = phone
        self.sid = f"CA{os.urandom(16).hex()}"
        self.action = ""

    def params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "From": self.phone,
            "To": "+15305550100",
            "CallStatus": "in-progress",
            **extra,
        }

    async def post(
        self, http: httpx.AsyncClient, gateway: str, url: str, params: dict[str, str]
    ) -> str:
        local = gateway + url[len(PUBLIC) :]
        response = await http.post(local, content=urlencode(params), headers=signed(url, params))
        if response.status_code != 200:
            raise RuntimeError(f"bad voice answer {response.status_code}: {response.text[:200]}")
        marker = 'action="'
        text = response.text
        if marker in text:
            self.action = text.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
        return text

    async def start(self, http: httpx.AsyncClient, gateway: str) -> None:
        await self.post(http, gateway, f"{PUBLIC}/twilio/voice", self.params())
        await self.post(http, gateway, self.action, self.params(Digits="1"))  # English, balance

    async def turn(self, http: httpx.AsyncClient, gateway: str, n: int) -> float:
        started = time.perf_counter()
        text = await self.post(
            http,
            gateway,
            self.action,
            self.params(SpeechResult=SPEECH[n % len(SPEECH)], Confidence="0.9"),
        )
        elapsed = time.perf_counter() - started
        if "<Say" not in text:
            raise RuntimeError(f"voice turn said nothing: {text[:200]}")
        if "<Gather" not in text:  # handed off or hung up: start a new call
            self.sid = f"CA{os.urandom(16).hex()}"
            await self.start(http, gateway)
        return elapsed


async def rasa_turn(http: httpx.AsyncClient, rasa: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = await http.post(
        f"{rasa}/webhooks/rest/webhook",
        params={"token": RASA_TOKEN},
        json={"sender": sender, "message": text, "metadata": {"channel": "sms"}},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"Rasa answered {response.status_code}")
    return elapsed


async def run_concurrent(
    workers: int, turns: int, make: Callable[[int], Callable[[int], Awaitable[float]]]
) -> list[float]:
    """``workers`` conversations at once, each doing its share of ``turns`` sequentially."""
    per_worker = max(1, turns // workers)

    async def worker(index: int) -> list[float]:
        step = make(index)
        return [await step(n) for n in range(per_worker)]

    results = await asyncio.gather(*(worker(i) for i in range(workers)))
    return [value for chunk in results for value in chunk]


async def measure(gateway: str, rasa: str, phones: list[str], turns: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        for concurrency in (1, 20):
            offset = concurrency * 1000

            def sms_factory(i: int, offset: int = offset) -> Callable[[int], Awaitable[float]]:
                phone = phones[(offset + i) % len(phones)]
                return lambda n: sms_turn(http, gateway, phone, n)

            calls = [
                VoiceCall(phones[(offset + 500 + i) % len(phones)]) for i in range(concurrency)
            ]
            await asyncio.gather(*(c.start(http, gateway) for c in calls))

            def voice_factory(
                i: int, calls: list[VoiceCall] = calls
            ) -> Callable[[int], Awaitable[float]]:
                return lambda n: calls[i].turn(http, gateway, n)

            def rasa_factory(i: int, c: int = concurrency) -> Callable[[int], Awaitable[float]]:
                sender = f"bench-{c}-{i}-{os.urandom(4).hex()}"
                return lambda n: rasa_turn(http, rasa, sender, SMS_TEXTS[n % len(SMS_TEXTS)])

            # Warm-up: connections, caches, the model's first inference.
            await run_concurrent(concurrency, concurrency * 3, sms_factory)
            for name, factory in (
                ("SMS turn", sms_factory),
                ("voice turn", voice_factory),
                ("Rasa alone", rasa_factory),
            ):
                started = time.perf_counter()
                values = await run_concurrent(concurrency, turns, factory)
                wall = time.perf_counter() - started
                rows.append(
                    {
                        "what": name,
                        "concurrency": concurrency,
                        "n": len(values),
                        "median": statistics.median(values) * 1000,
                        "p95": percentile(values, 95) * 1000,
                        "throughput": len(values) / wall,
                    }
                )
                print(
                    f"  {name:<11} x{concurrency:<3} n={len(values):<5} "
                    f"median {rows[-1]['median']:7.1f} ms  p95 {rows[-1]['p95']:7.1f} ms  "
                    f"{rows[-1]['throughput']:6.1f}/s",
                    flush=True,
                )
    return rows


def report(
    rows: list[dict[str, Any]], rasa_kind: str, database: str, turns: int, load_before: float
) -> str:
    lines = [
        "## Channels",
        "",
        f"Webhook-to-TwiML latency, `bench/channels_bench.py --turns {turns}` "
        f"({datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, database {database}, Rasa: {rasa_kind}; "
        f"load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} when it "
        "finished).",
        "Gateway in its own uvicorn process (one worker); signed requests as Twilio sends them;",
        "each conversation sends its turns one after another, N conversations at once.",
        "",
        "| turn | conversations | n | median ms | p95 ms | turns/s | median vs Rasa alone |",
        "|---|---|---|---|---|---|---|",
    ]
    alone = {r["concurrency"]: r for r in rows if r["what"] == "Rasa alone"}
    for row in rows:
        base = alone[row["concurrency"]]
        ratio = "—" if row["what"] == "Rasa alone" else f"{row['median'] / base['median']:.2f}×"
        lines.append(
            f"| {row['what']} | {row['concurrency']} | {row['n']} | {row['median']:.1f} | "
            f"{row['p95']:.1f} | {row['throughput']:.1f} | {ratio} |"
        )
    overheads = [
        (r["median"] - alone[r["concurrency"]]["median"]) / alone[r["concurrency"]]["median"]
        for r in rows
        if r["what"] != "Rasa alone"
    ]
    added = [
        r["median"] - alone[r["concurrency"]]["median"] for r in rows if r["what"] != "Rasa alone"
    ]
    lines += [
        "",
        f"The gateway adds {min(added):.0f}–{max(added):.0f} ms to the median turn, "
        f"{min(overheads):+.0%} to {max(overheads):+.0%} of Rasa's own time in this run "
        "(target: under +25 %). Per turn the gateway checks the signature, then runs two short "
        "transactions in worker threads: one before Rasa is asked (find the conversation, "
        "record the inbound message, commit: nothing is lost if anything fails later) and one "
        "after (record the replies, remember the TwiML for redeliveries, commit); the wait for "
        "Rasa runs on the event loop, so conversations wait on Rasa concurrently. About ten "
        "SQL statements per turn.",
        "",
    ]

    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace (or append) the "## Channels" section of docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find("## Channels")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="timed turns per row")
    parser.add_argument("--accounts", type=int, default=500, help="generated accounts to seed")
    parser.add_argument("--rasa", default="auto", help="auto | scripted | URL of a running Rasa")
    parser.add_argument(
        "--fake-latency-ms",
        type=float,
        default=30.0,
        help="answer time of the scripted Rasa (Rasa 3.6 measured ~28 ms)",
    )
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--serve-fake-rasa", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_rasa:
        serve_fake_rasa(args.serve_fake_rasa, args.fake_latency_ms / 1000)
        return 0

    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="channels-bench-"))
    database = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    print(f"seeding {args.accounts} accounts into {database.split('://')[0]} ...", flush=True)
    phones = prepare_database(database, args.accounts)
    gateway_port = free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    gateway_cmd = [
        sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(gateway_port), "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    processes: list[subprocess.Popen[bytes]] = []
    stack: Any = None
    rasa_kind = ""
    try:
        model = ROOT / "models" / "district.tar.gz"
        if args.rasa.startswith("http"):
            rasa_url, rasa_kind = args.rasa.rstrip("/"), f"running server at {args.rasa}"
        elif args.rasa == "auto" and model.exists():
            rasa_url, rasa_kind = "", "real Rasa 3.6 + action server, trained model"
        else:
            port = free_port()
            processes.append(
                start_process(
                    [
                        sys.executable,
                        __file__,
                        "--serve-fake-rasa",
                        str(port),
                        "--fake-latency-ms",
                        str(args.fake_latency_ms),
                    ],
                    dict(os.environ),
                    workdir / "fake-rasa.log",
                )
            )
            if not wait_for_port(port, 15):
                raise RuntimeError("the scripted Rasa did not start")
            rasa_url = f"http://127.0.0.1:{port}"
            rasa_kind = (
                f"scripted server on Rasa's REST protocol answering in "
                f"{args.fake_latency_ms:.0f} ms"
                + ("" if model.exists() else " (no trained model present)")
            )
        env = dict(
            os.environ,
            DATABASE_URL=database,
            PUBLIC_BASE_URL=PUBLIC,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_ACCOUNT_SID="",
            RASA_TOKEN=RASA_TOKEN,
            RASA_URL=rasa_url or "http://127.0.0.1:1",
            LOG_LEVEL="WARNING",
        )
        if not rasa_url:
            # The action server calls the gateway; start the gateway first, then the stack.
            from tests.utils import rasa as rasa_utils

            rasa_utils.RASA_TOKEN = RASA_TOKEN
            placeholder = free_port()
            env["RASA_URL"] = f"http://127.0.0.1:{placeholder}"
        processes.append(start_process(gateway_cmd, env, workdir / "gateway.log"))
        if not wait_for_port(gateway_port, 60):
            raise RuntimeError(f"the gateway did not start; see {workdir / 'gateway.log'}")
        if not rasa_url:
            from tests.utils import rasa as rasa_utils

            stack = rasa_utils.start_stack(workdir, gateway)
            rasa_url = stack.rasa_url
            # The gateway was started before Rasa's port was known: restart it pointed there.
            stop(processes.pop())
            env["RASA_URL"] = rasa_url
            processes.append(start_process(gateway_cmd, env, workdir / "gateway.log"))
            if not wait_for_port(gateway_port, 60):
                raise RuntimeError("the gateway did not restart")
        print(f"gateway {gateway}, Rasa {rasa_url} ({rasa_kind})", flush=True)
        rows = asyncio.run(measure(gateway, rasa_url, phones, args.turns))
    finally:
        if stack is not None:
            from tests.utils import rasa as rasa_utils

            rasa_utils.stop_stack(stack)
        for process in processes:
            stop(process)
    section = report(
        rows, rasa_kind, database.split("://")[0].split("+")[0], args.turns, load_before
    )
    print()
    print(section)
    if args.write_docs:
        write_section(section)
        print("docs/benchmarks.md updated (section Channels)")
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda hook_args: None
    raise SystemExit(main())
