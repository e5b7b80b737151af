"""How pages go out: the SMS through the outbound SMS sender, the call through Twilio.

The twilio client is synchronous: async callers run these in a worker thread.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException

from accounts.clock import Clock
from accounts.models import OutboundMessage
from accounts.redact import mask_address
from accounts.settings import Settings

logger = logging.getLogger(__name__)


class PageTransport(Protocol):
    """Sends pages: the SMS through the outbound SMS sender, the call through Twilio."""

    district_name: str

    def ack_url(self, page_id: int) -> str:
        """The absolute URL the page call's ``<Gather>`` posts to."""
        ...

    def send_sms(
        self, *, session: Session, to: str, body: str, ticket_id: int
    ) -> list[OutboundMessage]:
        """Send (or try to send) a page SMS; returns its outbox rows."""
        ...

    def place_call(
        self, *, session: Session, to: str, twiml: str, spoken: str, ticket_id: int
    ) -> OutboundMessage:
        """Place a page call; returns its outbox row."""
        ...


def _console_writer(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class TwilioPageTransport:
    """Pages through the channels' :class:`~channels.outbound_sms.SmsSender` and Twilio calls.

    Attributes:
        sms_sender: The gateway's outbound SMS sender (opt-outs, pacing, retries).
        client: A ``twilio.rest.Client`` for ``calls.create``; ``None`` (the demo)
            writes the outbox row and prints the call to the console.
        settings: From number and public base URL.
        clock: Timestamps.
        ack_path: The gateway path page calls post their keys to.
        district_name: Said at the start of the call.
    """

    sms_sender: Any
    client: Any
    settings: Settings
    clock: Clock
    ack_path: str
    district_name: str = "water district"
    console: Callable[[str], None] = field(default=_console_writer)

    def ack_url(self, page_id: int) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}{self.ack_path}?page={page_id}"

    def send_sms(
        self, *, session: Session, to: str, body: str, ticket_id: int
    ) -> list[OutboundMessage]:
        rows: list[OutboundMessage] = self.sms_sender.send(
            session=session, to=to, body=body, purpose="page", ticket_id=ticket_id, record=False
        )
        return rows

    def place_call(
        self, *, session: Session, to: str, twiml: str, spoken: str, ticket_id: int
    ) -> OutboundMessage:
        now = self.clock.now()
        row = OutboundMessage(
            channel="voice",
            purpose="page",
            to_address=to,
            from_address=self.settings.twilio.from_number,
            body=spoken,
            headers={"twiml": twiml},
            status="queued",
            attempts=1,
            next_attempt_at=now,
            created_at=now,
            ticket_id=ticket_id,
        )
        session.add(row)
        session.flush()
        if self.client is None:
            row.status, row.sent_at = "console", now
            self.console(f"[page call to {mask_address(to)}] {spoken}")
            return row
        try:
            call = self.client.calls.create(
                to=to, from_=self.settings.twilio.from_number, twiml=twiml
            )
        except TwilioRestException as exc:
            row.status, row.last_error = "failed", f"twilio {exc.status} code {exc.code}"[:300]
            logger.warning("page call %s failed: %s", row.id, row.last_error)
            return row
        except requests.exceptions.RequestException as exc:
            row.status, row.last_error = "failed", type(exc).__name__
            logger.warning("page call %s failed: %s", row.id, row.last_error)
            return row
        row.provider_id = str(call.sid)
        row.status = str(call.status or "queued")
        row.sent_at = self.clock.now()
        return row
