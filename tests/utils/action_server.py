"""The real rasa_sdk action server (actions/ in .venv-rasa), started against a gateway.

Actions are run the way Rasa runs them: a POST to ``/webhook`` with the
tracker state, the domain and the action's name. The domain is the project's
own (bot/domain/*.yml), so forms validate with the real slot lists.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from accounts.settings import DEMO_INTERNAL_TOKEN
from tests.utils.servers import free_port, unavailable, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def load_domain() -> dict[str, Any]:
    """bot/domain/*.yml merged into one domain dict, as Rasa sends it."""
    domain: dict[str, Any] = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if isinstance(value, dict):
                domain.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                domain.setdefault(key, []).extend(value)
            else:
                domain[key] = value
    return domain


@dataclass
class ActionServer:
    """A running action server."""

    url: str
    log: Path


@contextmanager
def serve_actions(gateway_url: str, workdir: Path, token: str = DEMO_INTERNAL_TOKEN
                  ) -> Iterator[ActionServer]:
    """Run ``python -m rasa_sdk --actions actions`` until the block ends."""
    if not PYTHON.exists():
        unavailable("the Rasa environment .venv-rasa is missing (run `make test`)")
    port = free_port()
    log = workdir / f"actions-{port}.log"
    env = dict(os.environ, GATEWAY_INTERNAL_URL=gateway_url, INTERNAL_API_TOKEN=token,
               GATEWAY_TIMEOUT="3", PYTHONWARNINGS="ignore")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        if not wait_for_port(port, timeout=60):
            raise RuntimeError(f"the action server did not start; see {log}")
        yield ActionServer(url=f"http://127.0.0.1:{port}", log=log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def user_event(text: str, intent: str | None, entities: list[dict[str, Any]] | None = None,
               confidence: float = 0.95) -> dict[str, Any]:
    """A ``user`` event as Rasa stores it."""
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "entities": entities or []}
    return {"event": "user", "text": text, "parse_data": parse, "metadata": {}}


def tracker_state(
    sender: str,
    *,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> dict[str, Any]:
    """The tracker JSON Rasa sends to the action server."""
    events = list(events or [])
    latest = next((e for e in reversed(events) if e["event"] == "user"), None)
    latest_message = latest["parse_data"] if latest else {"intent": {}, "entities": [], "text": ""}
    defaults = {"language": "en", "channel": "sms", "caller_matched": True, "verified": False,
                "verification_locked": False}
    return {
        "sender_id": sender,
        "slots": {**defaults, **(slots or {})},
        "latest_message": latest_message,
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": "action_listen",
    }


class ActionClient:
    """Runs one action on the server and returns its ``events`` and ``responses``."""

    def __init__(self, server: ActionServer, domain: dict[str, Any]) -> None:
        self.server = server
        self.domain = domain

    def run(self, action: str, tracker: dict[str, Any]) -> dict[str, Any]:
        body = {"next_action": action, "sender_id": tracker["sender_id"], "tracker": tracker,
                "domain": self.domain, "version": "3.6.2"}
        response = httpx.post(f"{self.server.url}/webhook", json=body, timeout=20)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


def texts(result: dict[str, Any]) -> str:
    """All text the action said, joined."""
    return "\n".join(r.get("text") or "" for r in result["responses"])


def customs(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The custom payloads the action sent."""
    return [r["custom"] for r in result["responses"] if r.get("custom")]


def slots_set(result: dict[str, Any]) -> dict[str, Any]:
    """The slots the action set (last value wins)."""
    return {e["name"]: e["value"] for e in result["events"] if e.get("event") == "slot"}
