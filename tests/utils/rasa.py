"""The real Rasa server (trained model) and action server, started for the test session.

The action server calls the gateway's internal API, so the stack comes with a
session-wide live gateway whose context (database, clock, settings) each test
swaps in: ``live_gateway`` below.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from accounts.settings import DEMO_INTERNAL_TOKEN
from tests.utils.servers import free_port, unavailable, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "district.tar.gz"
RASA_TOKEN = "test-rasa-token"


@dataclass
class RasaStack:
    """A running Rasa server and action server."""

    rasa_url: str
    actions_url: str
    token: str
    workdir: Path
    gateway_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def rasa_port(self) -> int:
        return int(self.rasa_url.rsplit(":", 1)[1])

    def pause_rasa(self) -> None:
        """Freeze Rasa (connections hang, like an overloaded server)."""
        os.kill(self.processes["rasa"].pid, signal.SIGSTOP)

    def resume_rasa(self) -> None:
        os.kill(self.processes["rasa"].pid, signal.SIGCONT)

    def stop_rasa(self) -> None:
        """Stop the Rasa process for real (connections are refused)."""
        _stop(self.processes.pop("rasa"))

    def start_rasa(self) -> None:
        """(Re)start the Rasa process and wait until its model is loaded."""
        self.processes["rasa"] = _start_rasa(self)
        _wait_for_rasa(self)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.kill(process.pid, signal.SIGCONT)
        except ProcessLookupError:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _env(stack: RasaStack) -> dict[str, str]:
    return dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        GATEWAY_INTERNAL_URL=stack.gateway_url,
        INTERNAL_API_TOKEN=DEMO_INTERNAL_TOKEN,
        PYTHONWARNINGS="ignore",
    )


def _start_rasa(stack: RasaStack) -> subprocess.Popen[bytes]:
    endpoints = stack.workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{stack.actions_url}/webhook"\n')
    log = (stack.workdir / "rasa.log").open("ab")
    stack.logs.append(log)
    return subprocess.Popen(
        [str(RASA_BIN), "run", "--enable-api", "--auth-token", stack.token, "--interface",
         "127.0.0.1", "--port", str(stack.rasa_port), "--model", str(MODEL), "--endpoints",
         str(endpoints), "--credentials", str(ROOT / "bot" / "credentials.yml")],
        cwd=stack.workdir, env=_env(stack), stdout=log, stderr=subprocess.STDOUT,
    )


def _wait_for_rasa(stack: RasaStack, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.processes["rasa"].poll() is not None:
            raise RuntimeError(f"Rasa exited; see {stack.workdir / 'rasa.log'}")
        try:
            status = httpx.get(f"{stack.rasa_url}/status", params={"token": stack.token},
                               timeout=2)
            if status.status_code == 200 and status.json().get("model_file"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Rasa did not load its model in {timeout:.0f}s")


def start_stack(workdir: Path, gateway_url: str) -> RasaStack:
    """Start the action server and Rasa; the caller stops them with :func:`stop_stack`."""
    if not RASA_BIN.exists():
        unavailable("the Rasa environment .venv-rasa is missing (run `make test`)")
    if not MODEL.exists():
        unavailable("no trained model at models/district.tar.gz (run `make test`)")
    stack = RasaStack(
        rasa_url=f"http://127.0.0.1:{free_port()}",
        actions_url=f"http://127.0.0.1:{free_port()}",
        token=RASA_TOKEN,
        workdir=workdir,
        gateway_url=gateway_url,
    )
    actions_port = int(stack.actions_url.rsplit(":", 1)[1])
    log = (workdir / "actions.log").open("ab")
    stack.logs.append(log)
    stack.processes["actions"] = subprocess.Popen(
        [str(RASA_BIN), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=ROOT, env=_env(stack), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        if not wait_for_port(actions_port, timeout=90):
            raise RuntimeError(f"the action server did not start; see {workdir / 'actions.log'}")
        stack.start_rasa()
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack: RasaStack) -> None:
    for process in list(stack.processes.values()):
        _stop(process)
    stack.processes.clear()
    for log in stack.logs:
        log.close()
    stack.logs.clear()


def iter_stack(workdir: Path, gateway_url: str) -> Iterator[RasaStack]:
    """A generator for session fixtures."""
    stack = start_stack(workdir, gateway_url)
    try:
        yield stack
    finally:
        stop_stack(stack)
