"""Outbound SMS (CSR replies, notifications) through the twilio REST client.

Every message is first a row in the outbox (``OutboundMessage``) so nothing is
lost and every CSR sees what went out. The sender:

* never sends to a number that opted out (the one consent ledger); Twilio's own
  21610 refusal is recorded as an opt-out too;
* paces sends per sending number (a US long code carries about one segment a
  second) so a storm of notices does not get throttled or filtered;
* retries transient failures (HTTP 429, 5xx, timeouts, connection errors)
  with exponential backoff and jitter, and gives up on permanent ones;
* asks Twilio for status callbacks (``/twilio/sms/status``) that update the row;
* without Twilio credentials (the demo) writes the row and prints the message
  to the console instead.

The twilio client is synchronous (``requests``); async callers run
:meth:`SmsSender.send` in a worker thread.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException

from accounts.clock import Clock
from accounts.models import Conversation, OutboundMessage
from accounts.phone import normalize_phone
from accounts.redact import mask_address, redact_cards
from accounts.services.consent import is_opted_out, record_opt_out
from accounts.services.contacts import record_contact
from accounts.settings import Settings
from accounts.sms_text import split_message
from channels.base import CustomerInputError

logger = logging.getLogger(__name__)

STATUS_PATH = "/twilio/sms/status"
#: Twilio error codes that mean "this number must not be texted".
OPTED_OUT_CODES = frozenset({21610})
#: Status values Twilio reports in message status callbacks, in lifecycle order.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "read", "canceled"})
_STATUS_ORDER = {
    "queued": 0,
    "accepted": 0,
    "scheduled": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
    "canceled": 3,
}


class TransientSendError(Exception):
    """A send that may succeed if tried again (rate limit, Twilio 5xx, timeout)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    Attributes:
        attempts: Tries in total, including the first.
        base_delay: Seconds before the first retry.
        max_delay: Upper bound of one wait.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2.0 ** (retry - 1)))
        # "Equal jitter": at least half the backoff, so retries never bunch up at 0.
        jitter: float = (rng or random).uniform(0, ceiling / 2)
        return ceiling / 2 + jitter


class SendPacer:
    """At most ``per_second`` sends per sending number, shared by all threads.

    Each sender key gets the next free slot; the caller sleeps until its slot.
    Keys do not block each other.
    """

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_turn(self, key: str) -> float:
        """Block until ``key`` may send again; returns the seconds waited."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


def is_transient(exc: BaseException) -> bool:
    """Whether a failed send is worth retrying."""
    if isinstance(exc, TwilioRestException):
        status = int(exc.status)
        return status == 429 or status >= 500
    return isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError)


def _console_writer(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class SmsSender:
    """Sends SMS through an injected twilio ``Client`` (or the console without one).

    Attributes:
        client: A ``twilio.rest.Client`` or ``None`` for the demo console transport.
        settings: Messaging Service SID / from number and the public base URL.
        clock: Timestamps for the outbox and contact log.
        pacer: Per-sender pacing; one is built from ``settings`` when omitted.
        retry: Backoff policy for transient failures.
        sleep: How to wait between retries (tests pass a recorder).
        console: Where the console transport prints.
    """

    client: Any
    settings: Settings
    clock: Clock
    pacer: SendPacer | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    console: Callable[[str], None] = _console_writer

    def __post_init__(self) -> None:
        if self.pacer is None:
            self.pacer = SendPacer(self.settings.twilio.sms_per_second)

    @property
    def sender_key(self) -> str:
        """What pacing is keyed on: the Messaging Service or the from number."""
        twilio = self.settings.twilio
        return twilio.messaging_service_sid or twilio.from_number

    @property
    def status_callback(self) -> str:
        """The absolute URL Twilio posts delivery status to."""
        return f"{self.settings.public_base_url.rstrip('/')}{STATUS_PATH}"

    def send(
        self,
        *,
        session: Session,
        to: str,
        body: str,
        purpose: str = "reply",
        conversation: Conversation | None = None,
        ticket_id: int | None = None,
        notice_id: int | None = None,
        actor: str = "bot",
        record: bool = True,
    ) -> list[OutboundMessage]:
        """Send a text (split into bodies Twilio accepts), one outbox row per body.

        Args:
            session: Database session; the caller commits.
            to: The recipient in any common phone format.
            body: The text; card numbers are removed before it is stored or sent.
            purpose: ``reply``, ``notice``, ``page`` or ``otp``.
            conversation: Links the rows and contact-log entries.
            ticket_id: The ticket a CSR reply belongs to.
            notice_id: The notice a notification is about.
            actor: Who is sending, for the contact log (``bot`` or a CSR's username).
            record: Also write outbound contact-log entries.

        Returns:
            The outbox rows with their final status: ``sent``/``queued`` (Twilio
            accepted), ``console`` (demo), ``blocked`` (opted out), ``failed``.

        Raises:
            CustomerInputError: When ``to`` is not a phone number or body is empty.
        """
        address = normalize_phone(to)
        if address is None:
            raise CustomerInputError("not a phone number")
        bodies = split_message(redact_cards(body))
        if not bodies:
            raise CustomerInputError("empty message")
        now = self.clock.now()
        rows: list[OutboundMessage] = []
        for text in bodies:
            row = OutboundMessage(
                channel="sms",
                purpose=purpose,
                to_address=address,
                from_address=self.sender_key,
                body=text,
                status="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                conversation_id=conversation.id if conversation else None,
                ticket_id=ticket_id,
                notice_id=notice_id,
                headers={},
            )
            session.add(row)
            rows.append(row)
        session.flush()
        for row in rows:
            self.deliver(session=session, row=row)
            if record:
                record_contact(
                    session=session,
                    channel="sms",
                    direction="outbound",
                    kind="message",
                    body=row.body,
                    at=self.clock.now(),
                    conversation=conversation,
                    ticket_id=ticket_id,
                    actor=actor,
                    meta={"outbound_id": row.id, "status": row.status, "purpose": purpose},
                )
        session.flush()
        return rows

    def deliver(self, *, session: Session, row: OutboundMessage) -> None:
        """Send one queued outbox row (consent checked, paced, retried); the caller commits.

        The row ends ``sent``/``queued``/``accepted`` (Twilio took it),
        ``console`` (demo), ``blocked`` (opted out) or ``failed``.
        """
        if is_opted_out(session=session, address=row.to_address, channel="sms"):
            row.status, row.last_error = "blocked", "recipient opted out"
            logger.info("sms %s not sent: opted out", row.id)
            return
        if self.client is None:
            row.status, row.sent_at = "console", self.clock.now()
            row.headers = {"transport": "console"}
            self.console(f"[sms to {mask_address(row.to_address)}] {row.body}")
            return
        try:
            sid, status = self._create_with_retries(row)
        except TwilioRestException as exc:
            row.last_error = f"twilio {exc.status} code {exc.code}"[:300]
            if exc.code in OPTED_OUT_CODES:
                row.status = "blocked"
                record_opt_out(
                    session=session,
                    address=row.to_address,
                    channel="sms",
                    now=self.clock.now(),
                    via="twilio-21610",
                )
            else:
                row.status = "failed"
            logger.warning("sms %s failed: %s", row.id, row.last_error)
            return
        except TransientSendError as exc:
            row.status, row.last_error = "failed", str(exc)[:300]
            logger.warning("sms %s failed after %s attempts: %s", row.id, row.attempts, exc)
            return
        row.provider_id, row.status, row.sent_at = sid, status or "queued", self.clock.now()

    def _create_with_retries(self, row: OutboundMessage) -> tuple[str, str]:
        twilio = self.settings.twilio
        params: dict[str, Any] = {
            "to": row.to_address,
            "body": row.body,
            "status_callback": self.status_callback,
        }
        if twilio.messaging_service_sid:
            params["messaging_service_sid"] = twilio.messaging_service_sid
        else:
            params["from_"] = twilio.from_number
        last: BaseException | None = None
        for attempt in range(1, self.retry.attempts + 1):
            if self.pacer is not None:
                self.pacer.wait_turn(self.sender_key)
            row.attempts = attempt
            try:
                message = self.client.messages.create(**params)
            except (TwilioRestException, requests.exceptions.RequestException) as exc:
                if not is_transient(exc):
                    if isinstance(exc, TwilioRestException):
                        raise
                    raise TransientSendError(type(exc).__name__) from exc
                last = exc
                if attempt < self.retry.attempts:
                    self.sleep(self.retry.delay(attempt))
                continue
            return str(message.sid), str(message.status or "queued")
        detail = (
            f"twilio {last.status}"
            if isinstance(last, TwilioRestException)
            else type(last).__name__
        )
        raise TransientSendError(f"gave up after {self.retry.attempts} attempts: {detail}")


def apply_status_callback(
    *, session: Session, message_sid: str, status: str, error_code: str = "", now: datetime
) -> OutboundMessage | None:
    """Record a delivery status Twilio reported for an outbound message.

    Callbacks can arrive out of order (``sent`` after ``delivered``); a status
    never moves a row backwards.

    Returns:
        The updated row, or ``None`` when the SID is not ours.
    """
    row = session.scalars(
        select(OutboundMessage).where(OutboundMessage.provider_id == message_sid)
    ).first()
    if row is None:
        return None
    status = status.strip().lower()
    if _STATUS_ORDER.get(status, -1) >= _STATUS_ORDER.get(row.status, -1):
        row.status = status
    if error_code:
        row.last_error = f"twilio error {error_code}"[:300]
        if error_code.isdigit() and int(error_code) in OPTED_OUT_CODES:
            record_opt_out(
                session=session,
                address=row.to_address,
                channel="sms",
                now=now,
                via="twilio-21610",
            )
    history = dict(row.headers or {})
    events = list(history.get("status_events", []))
    events.append({"status": status, "at": now.isoformat(), "error": error_code})
    history["status_events"] = events[-20:]
    row.headers = history
    session.flush()
    return row
