"""A real SMTP server for tests (aiosmtpd on a free loopback port) that records messages.

Use the ``smtp_server`` fixture; ``smtp_server.messages`` holds what arrived
(envelope and parsed message), ``smtp_server.wait_for(n)`` blocks until ``n``
messages arrived. ``smtp_server.refuse = True`` makes it answer 451 to every
DATA (a server that is "down" for our purposes, without stopping the thread);
``refuse_with("550 ...")`` answers a permanent failure instead.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.utils.servers import free_port


@dataclass
class ReceivedMail:
    """One message the server accepted (parsed on first use: the server stays cheap)."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @functools.cached_property
    def message(self) -> EmailMessage:
        """The parsed message."""
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    refuse: bool = False
    refusal: str = "451 4.3.0 Try again later (test server refusing)"
    lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return self.refusal
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        with self.lock:
            self.messages.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from), rcpt_tos=list(envelope.rcpt_tos), raw=raw
                )
            )
            self.lock.notify_all()
        return "250 OK"


class SmtpTestServer:
    """aiosmtpd in a background thread; ``host``/``port`` to send to."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._handler = _Handler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        """Messages received so far (in order)."""
        with self._handler.lock:
            return list(self._handler.messages)

    @property
    def refuse(self) -> bool:
        """When true, every DATA gets a temporary failure (451)."""
        return self._handler.refuse

    @refuse.setter
    def refuse(self, value: bool) -> None:
        self._handler.refuse = value

    def refuse_with(self, reply: str) -> None:
        """Answer every DATA with ``reply`` (e.g. ``"550 5.1.1 no such user"``)."""
        self._handler.refusal = reply
        self._handler.refuse = True

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._handler.lock:
            self._handler.messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least ``count`` messages arrived (or fail)."""
        deadline = time.monotonic() + timeout
        with self._handler.lock:
            while len(self._handler.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} messages, got {len(self._handler.messages)}"
                    )
                self._handler.lock.wait(remaining)
            return list(self._handler.messages)

    def start(self) -> None:
        """Start listening."""
        self._controller = Controller(
            self._handler, hostname=self.host, port=self.port, data_size_limit=64 * 1024 * 1024
        )
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A fresh recording SMTP server for one test."""
    server = SmtpTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
