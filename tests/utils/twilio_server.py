"""A local HTTP server that answers like Twilio's REST API and records every request.

Point the real ``twilio`` client at it (``TWILIO_API_BASE=http://127.0.0.1:port``,
see ``channels.twilio_rest``) and assert on what the library actually sent:
path, Basic auth, form fields. It answers ``POST .../Messages.json`` and
``POST .../Calls.json`` (pages place calls) with 201 and the JSON Twilio returns
(``sid``, ``status``...), and can be told to fail the next requests (429, 5xx,
a Twilio error code, or a delay for timeouts).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.utils.servers import free_port


@dataclass
class RecordedRequest:
    """One request the twilio client made."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]
    auth_user: str | None
    auth_password: str | None
    at: float

    def field(self, name: str) -> str | None:
        """The first value of a form field."""
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class Failure:
    """How to answer one upcoming request instead of succeeding."""

    status: int
    code: int | None = None
    message: str = "error"
    delay: float = 0.0


@dataclass
class TwilioRecorder:
    """State shared by the handler threads."""

    account_sid: str
    auth_token: str
    requests: list[RecordedRequest] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 503,
        code: int | None = None,
        message: str = "Service Unavailable",
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests with an error (or after ``delay`` seconds)."""
        with self.lock:
            self.failures.extend(Failure(status, code, message, delay) for _ in range(times))

    def message_requests(self) -> list[RecordedRequest]:
        """Requests that created messages."""
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def call_requests(self) -> list[RecordedRequest]:
        """Requests that placed calls."""
        return [r for r in self.requests if r.path.endswith("/Calls.json")]


def _handler(recorder: TwilioRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send_json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> RecordedRequest:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            parts = urlsplit(self.path)
            user = password = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                decoded = base64.b64decode(auth[6:]).decode()
                user, _, password = decoded.partition(":")
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k: v for k, v in self.headers.items()},
                form=parse_qs(raw, keep_blank_values=True),
                auth_user=user,
                auth_password=password,
                at=time.monotonic(),
            )
            with recorder.lock:
                recorder.requests.append(request)
            return request

        def _failure(self) -> Failure | None:
            with recorder.lock:
                return recorder.failures.pop(0) if recorder.failures else None

        def do_POST(self) -> None:
            request = self._record()
            failure = self._failure()
            if failure is not None:
                if failure.delay:
                    time.sleep(failure.delay)
                self._send_json(
                    failure.status,
                    {
                        "code": failure.code,
                        "message": failure.message,
                        "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
                        "status": failure.status,
                    },
                )
                return
            if (request.auth_user, request.auth_password) != (
                recorder.account_sid,
                recorder.auth_token,
            ):
                self._send_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            base = f"/2010-04-01/Accounts/{recorder.account_sid}"
            if request.path == f"{base}/Messages.json":
                self._message(request, f"{base}/Messages")
            elif request.path == f"{base}/Calls.json":
                self._call(request, f"{base}/Calls")
            else:
                self._send_json(404, {"code": 20404, "message": "Not found", "status": 404})

        def _message(self, request: RecordedRequest, collection: str) -> None:
            to = request.field("To")
            service = request.field("MessagingServiceSid")
            if not to or not (request.field("From") or service):
                self._send_json(
                    400,
                    {"code": 21604, "message": "A 'To' and a 'From' are required", "status": 400},
                )
                return
            sid = "SM" + secrets.token_hex(16)
            now = formatdate(usegmt=True)
            self._send_json(
                201,
                {
                    "sid": sid,
                    "account_sid": recorder.account_sid,
                    "to": to,
                    "from": request.field("From"),
                    "messaging_service_sid": service,
                    "body": request.field("Body") or "",
                    "status": "accepted" if service else "queued",
                    "num_segments": "1",
                    "num_media": "0",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "price": None,
                    "price_unit": "USD",
                    "error_code": None,
                    "error_message": None,
                    "date_created": now,
                    "date_updated": now,
                    "date_sent": None,
                    "uri": f"{collection}/{sid}.json",
                    "subresource_uris": {"media": f"{collection}/{sid}/Media.json"},
                },
            )

        def _call(self, request: RecordedRequest, collection: str) -> None:
            if not request.field("To") or not request.field("From"):
                self._send_json(400, {"code": 21201, "message": "No 'To' number", "status": 400})
                return
            if not (request.field("Url") or request.field("Twiml")):
                self._send_json(400, {"code": 21205, "message": "Url or Twiml", "status": 400})
                return
            sid = "CA" + secrets.token_hex(16)
            now = formatdate(usegmt=True)
            self._send_json(
                201,
                {
                    "sid": sid,
                    "account_sid": recorder.account_sid,
                    "to": request.field("To"),
                    "from": request.field("From"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "date_created": now,
                    "date_updated": now,
                    "uri": f"{collection}/{sid}.json",
                },
            )

        def do_GET(self) -> None:
            self._record()
            self._send_json(404, {"code": 20404, "message": "Not found", "status": 404})

    return Handler


@contextmanager
def twilio_api(
    account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token"
) -> Iterator[TwilioRecorder]:
    """Serve a recording Twilio REST API on a free loopback port until the block ends."""
    recorder = TwilioRecorder(account_sid=account_sid, auth_token=auth_token)
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(recorder))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{port}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
