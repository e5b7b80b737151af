"""Fixtures for the channel tests: a live gateway, a scripted Rasa-protocol server,
a recording Twilio REST API and a client that signs webhooks like Twilio.

The scripted Rasa server speaks Rasa's REST channel protocol over real HTTP so
the gateway's rendering of every reply shape (text, buttons, pay, handoff,
hangup), its time bounds and its failure handling can be tested exactly; the
tests marked ``rasa`` run the same conversations against the real Rasa server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.clock import FixedClock
from accounts.db import make_sessionmaker
from accounts.settings import Settings
from channels.rasa_client import RasaClient
from gateway.app import create_app
from gateway.services import build_services
from tests.utils.live_server import LiveServer, serve
from tests.utils.servers import free_port
from tests.utils.twilio_signing import TwilioWebhookClient

PUBLIC_BASE = "https://water.example.org"
AUTH_TOKEN = "test-auth-token-0123456789"
DANA = "+15305550101"
MARIA = "+15305550102"
UNKNOWN = "+15305550199"

#: ``/conversations/{sender}/tracker/events`` without the sender.
EVENTS_PATH = ("conversations", "tracker", "events")

Responder = Callable[[dict[str, Any]], list[dict[str, Any]]]


def default_responder(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Answers in Rasa's message shapes, chosen by the message (intent triggers or words)."""
    text = str(payload.get("message", "")).lower()
    if text in ("/check_balance",) or "balance" in text or "saldo" in text:
        return [
            {"recipient_id": payload["sender"], "text": "Your balance is $84.20, due Dec 6."},
            {
                "recipient_id": payload["sender"],
                "text": "What would you like to do?",
                "buttons": [
                    {"title": "Pay now", "payload": "/make_payment"},
                    {"title": "Something else", "payload": "/help"},
                ],
            },
        ]
    if text == "/make_payment" or "pay" in text:
        return [
            {"recipient_id": payload["sender"], "text": "You owe $84.20."},
            {
                "recipient_id": payload["sender"],
                "custom": {"type": "pay", "amount": "84.20", "account": "1000417"},
            },
        ]
    if text == "/outage" or "water" in text:
        return [{"recipient_id": payload["sender"], "text": "There is an outage on Oak Street."}]
    if text == "/help":
        return [{"recipient_id": payload["sender"], "text": "I can help with bills and outages."}]
    if text in ("/start_service", "/stop_service"):
        return [{"recipient_id": payload["sender"], "text": f"Sure: {text[1:]}. What address?"}]
    if "bye" in text:
        return [
            {"recipient_id": payload["sender"], "text": "Goodbye!"},
            {"recipient_id": payload["sender"], "custom": {"type": "hangup"}},
        ]
    if text.isdigit():
        return [{"recipient_id": payload["sender"], "text": f"Thanks, I got {len(text)} digits."}]
    return [{"recipient_id": payload["sender"], "text": "Sorry, could you rephrase that?"}]


@dataclass
class ScriptedRasa:
    """A server on Rasa's REST webhook protocol; records what the gateway sent."""

    url: str = ""
    responder: Responder = default_responder
    delay: float = 0.0
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    #: Tracker events posted: (sender, query string, event).
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    events_status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def scripted_rasa() -> Iterator[ScriptedRasa]:
    state = ScriptedRasa()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            path, _, query = self.path.partition("?")
            parts = path.strip("/").split("/")
            if len(parts) == 4 and (parts[0], parts[2], parts[3]) == EVENTS_PATH:
                with state.lock:
                    state.events.append((parts[1], query, payload))
                self._answer(state.events_status, b'{"events": []}')
                return
            with state.lock:
                state.received.append(payload)
            if state.delay:
                time.sleep(state.delay)
            if path != "/webhooks/rest/webhook":
                body, status = b"{}", 404
            elif state.status != 200:
                body, status = b'{"error": "boom"}', state.status
            else:
                body, status = json.dumps(state.responder(payload)).encode(), 200
            self._answer(status, body)

        def _answer(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the gateway gave up waiting, as it should

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass
class Gateway:
    """A live twilio_gateway with everything a channel test needs."""

    server: LiveServer
    twilio: TwilioWebhookClient
    sessions: sessionmaker[Session]
    settings: Settings
    clock: FixedClock
    rasa: ScriptedRasa

    def session(self) -> Session:
        return self.sessions()


def gateway_settings(settings: Settings, rasa_url: str, **twilio: Any) -> Settings:
    """Test settings with a public URL, the test auth token and the given Rasa."""
    twilio_settings = settings.twilio.model_copy(
        update={
            "auth_token": SecretStr(AUTH_TOKEN),
            "account_sid": "",
            "csr_number": "+15305550190",
            **twilio,
        }
    )
    return settings.model_copy(
        update={"public_base_url": PUBLIC_BASE, "rasa_url": rasa_url, "twilio": twilio_settings}
    )


@pytest.fixture
def twilio_gateway(
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    seeded: Session,
    scripted_rasa: ScriptedRasa,
) -> Iterator[Gateway]:
    test_settings = gateway_settings(settings, scripted_rasa.url)
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
    services = build_services(
        test_settings,
        engine=engine,
        clock=clock,
        http=http,
        rasa=RasaClient(http=http, base_url=scripted_rasa.url, token="t"),
    )
    app = create_app(services)
    with serve(app) as server:
        yield Gateway(
            server=server,
            twilio=TwilioWebhookClient(server.url, PUBLIC_BASE, AUTH_TOKEN),
            sessions=make_sessionmaker(engine),
            settings=test_settings,
            clock=clock,
            rasa=scripted_rasa,
        )


# -- TwiML helpers -------------------------------------------------------------


def parse_twiml(text: str) -> ElementTree.Element:
    """Parse a TwiML document and check its root."""
    root = ElementTree.fromstring(text)
    assert root.tag == "Response"
    return root


def messages(text: str) -> list[str]:
    """The bodies of the ``<Message>`` verbs."""
    return [m.text or "" for m in parse_twiml(text).iter("Message")]


def said(root: ElementTree.Element) -> list[str]:
    """Every ``<Say>`` text in document order."""
    return [s.text or "" for s in root.iter("Say")]


class Call:
    """Drives one phone call through the gateway the way Twilio would."""

    def __init__(
        self, twilio_gateway: Gateway, caller: str = DANA, call_sid: str = "CA" + "1" * 32
    ):
        self.gateway = twilio_gateway
        self.caller = caller
        self.call_sid = call_sid
        self.root: ElementTree.Element | None = None

    def params(self, **extra: str) -> dict[str, str]:
        base = {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": "+15305550100",
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        base.update(extra)
        return base

    def post(self, url: str, **extra: str) -> ElementTree.Element:
        response = self.gateway.twilio.post(url, self.params(**extra))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        self.root = parse_twiml(response.text)
        return self.root

    def start(self) -> ElementTree.Element:
        return self.post("/twilio/voice", CallStatus="ringing")

    def gather(self) -> ElementTree.Element:
        assert self.root is not None
        gather = self.root.find("Gather")
        assert gather is not None, ElementTree.tostring(self.root).decode()
        return gather

    def press(self, digits: str) -> ElementTree.Element:
        return self.post(self.gather().attrib["action"], Digits=digits)

    def say(self, speech: str, confidence: str = "0.92") -> ElementTree.Element:
        return self.post(self.gather().attrib["action"], SpeechResult=speech, Confidence=confidence)

    def silence(self) -> ElementTree.Element:
        return self.post(self.gather().attrib["action"])
