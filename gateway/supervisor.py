"""``assistant run``: every process of the product under one supervisor (honcho).

Gateway, Rasa, the action server and the inbox worker start together; Ctrl-C
stops them all. A taken port or a missing model is one clear line, not a hang.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from honcho.manager import Manager  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from accounts.deps import CoreServices
from accounts.settings import Settings
from accounts.startup_checks import production_refusals

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin"
GATEWAY_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "district.tar.gz"


@dataclass(frozen=True)
class Process:
    """One supervised process."""

    name: str
    command: list[str]
    port: int | None


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


def processes(settings: Settings) -> list[Process]:
    """The processes ``make run`` starts."""
    rasa_port = _port(settings.rasa_url, 5005)
    actions_port = _port(settings.actions_url, 5055)
    return [
        Process(
            "gateway",
            [str(GATEWAY_BIN / "uvicorn"), "gateway.app:create_app", "--factory",
             "--host", settings.gateway_host, "--port", str(settings.gateway_port),
             "--no-access-log"],
            settings.gateway_port,
        ),
        Process(
            "rasa",
            [str(RASA_BIN / "rasa"), "run", "--enable-api", "--auth-token",
             settings.rasa_token.get_secret_value(), "--interface", "127.0.0.1",
             "--port", str(rasa_port), "--model", str(MODEL), "--endpoints",
             str(ROOT / "bot" / "endpoints.yml"), "--credentials",
             str(ROOT / "bot" / "credentials.yml")],
            rasa_port,
        ),
        Process(
            "actions",
            [str(RASA_BIN / "rasa"), "run", "actions", "--actions", "actions",
             "--port", str(actions_port)],
            actions_port,
        ),
        Process("inbox", [str(GATEWAY_BIN / "assistant"), "inbox", "run"], None),
        # Re-pages on-call staff and sends due notice messages (quiet hours, pacing).
        Process("oncall", [str(GATEWAY_BIN / "assistant"), "oncall", "watch"], None),
    ]


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on ``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def problems(services: CoreServices, procs: list[Process]) -> list[str]:
    """Reasons not to start: taken ports, a missing model or Rasa environment."""
    found = [f"port {p.port} for {p.name} is taken; stop what uses it or change the setting"
             for p in procs if p.port is not None and port_taken(p.port)]
    if not (RASA_BIN / "rasa").exists():
        found.append("the Rasa environment (.venv-rasa) is missing; run `make run`")
    if not MODEL.exists():
        found.append("no trained Rasa model in models/; run `make run` to train one")
    reason = database_problem(services.settings, services.engine)
    if reason:
        found.append(reason)
    else:
        found.extend(production_refusals(services.settings, services.session_factory))
    return found


def database_problem(settings: Settings, engine: Engine) -> str | None:
    """None when the database answers, else one line saying why not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        shown = make_url(settings.effective_database_url).render_as_string(hide_password=True)
        detail = str(getattr(error, "orig", error)).strip().splitlines()[0]
        return f"cannot reach the database {shown}: {detail}"
    return None


def cmd_run(args: argparse.Namespace, services: CoreServices) -> int:
    """Start every process and wait; Ctrl-C stops them all."""
    settings = services.settings
    procs = processes(settings)
    if args.only:
        procs = [p for p in procs if p.name in args.only]
    trouble = problems(services, procs)
    if trouble:
        for line in trouble:
            print(f"assistant run: {line}", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env.setdefault("INTERNAL_API_TOKEN", settings.internal_api_token.get_secret_value())
    env.setdefault("GATEWAY_INTERNAL_URL",
                   f"http://{settings.gateway_host}:{settings.gateway_port}")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Rasa 3.6's own dependencies warn about their deprecations at every start.
    rasa_env = dict(env, PYTHONWARNINGS="ignore", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    manager = Manager()
    for proc in procs:
        proc_env = rasa_env if proc.name in ("rasa", "actions") else env
        manager.add_process(proc.name, shlex.join(proc.command), env=proc_env, cwd=str(ROOT))
    base = f"http://{settings.gateway_host}:{settings.gateway_port}"
    print(f"gateway:      {base}  (health: {base}/healthz)")
    print(f"CSR app:      {base}/csr/   (demo users csr1..senior, password district-demo)")
    print(f"Twilio hooks: {settings.public_base_url}/twilio/sms, "
          f"{settings.public_base_url}/twilio/voice")
    print(f"Rasa:         {settings.rasa_url}   actions: {settings.actions_url}")
    print("Ctrl-C stops everything.", flush=True)
    manager.loop()
    return int(manager.returncode or 0)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``assistant run``."""
    run = subparsers.add_parser("run", help="start every process (what `make run` starts)")
    run.add_argument("--only", nargs="*", choices=["gateway", "rasa", "actions", "inbox", "oncall"],
                     help="start only these processes")
    run.set_defaults(handler=cmd_run)
