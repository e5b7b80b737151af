"""The turn every channel shares: record, look up, ask Rasa, record the answer.

SMS, voice and email each turn their provider's request into an
:class:`~channels.base.InboundMessage` and call :meth:`Relay.turn`, which

1. opens or continues the conversation (SMS threads time out after a period
   of inactivity; a call is one conversation per CallSid),
2. looks the sender up on a new conversation (caller ID / sender address) and
   files the conversation on the account when exactly one account matches,
3. records the inbound message on the contact log with card numbers removed
   (and tells the customer not to send cards),
4. stays quiet when the conversation is handed off to a person (the message is
   still recorded, so the CSR sees it),
5. otherwise asks Rasa, within the channel's time bound,
6. records every reply; if Rasa is down, slow or erroring, answers with an
   apology that a person will follow up and opens a ticket carrying the
   customer's message — nothing is lost.

The database transaction is committed before waiting on Rasa so that no lock
is held while the model thinks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import anyio.from_thread
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import Clock
from accounts.district import District
from accounts.models import ContactLog, Conversation, Ticket
from accounts.redact import find_cards, redact_cards
from accounts.services.contacts import (
    already_recorded,
    link_conversation_to_account,
    record_contact,
)
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_accounts_by_email, find_accounts_by_phone
from accounts.services.tickets import open_ticket
from accounts.settings import Settings
from channels.base import BotReply, InboundMessage, replies_from_rasa
from channels.rasa_client import RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")


class DuplicateMessage(Exception):
    """The provider delivered a message that is already recorded (same external id)."""


_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "card_warning": (
            "For your security, please never send card numbers by text or email; we removed "
            "it from our records. To pay, use {portal} or call {pay_phone}."
        ),
        "unavailable": (
            "Sorry, our automated assistant is not available right now. We saved your message "
            "and a person from customer service will follow up with you. For an emergency "
            "call {phone}."
        ),
    },
    "es": {
        "card_warning": (
            "Por su seguridad, nunca envíe números de tarjeta por texto o correo; lo quitamos "
            "de nuestros registros. Para pagar, use {portal} o llame al {pay_phone}."
        ),
        "unavailable": (
            "Lo sentimos, nuestro asistente automático no está disponible ahora. Guardamos su "
            "mensaje y una persona de servicio al cliente le dará seguimiento. Para una "
            "emergencia llame al {phone}."
        ),
    },
}


def relay_text(district: District, language: str | None, key: str) -> str:
    """A fixed relay phrase in the customer's language, filled with district facts."""
    table = _TEXTS.get((language or "en")[:2], _TEXTS["en"])
    return table[key].format(
        portal=district.payments.portal_url.split("?")[0],
        pay_phone=district.payments.pay_by_phone.number_display,
        phone=district.contact.phone_display,
    )


@dataclass
class TurnResult:
    """What a turn produced.

    Attributes:
        conversation: The conversation the message belongs to.
        replies: What to send back (may be empty: handed off, or Rasa said nothing).
        created: Whether this message started the conversation.
        handed_off: The conversation is with a person; the bot stayed quiet.
        degraded: Rasa was unavailable; ``replies`` is the apology.
        ticket_id: The ticket opened because Rasa was unavailable.
        inbound_log_id: The contact-log id of the inbound message.
    """

    conversation: Conversation
    replies: list[BotReply] = field(default_factory=list)
    created: bool = False
    handed_off: bool = False
    degraded: bool = False
    ticket_id: int | None = None
    inbound_log_id: int | None = None


@dataclass
class PendingTurn:
    """A turn between recording the message and hearing from Rasa."""

    message: InboundMessage
    result: TurnResult
    safe_text: str = ""
    warned: list[BotReply] = field(default_factory=list)


# Re-entrant: a handler's section may call relay methods that take it too.
_sqlite_writes = threading.RLock()


@contextmanager
def serialized_writes(session: Session) -> Iterator[None]:
    """On SQLite, one write transaction at a time in this process.

    SQLite allows one writer; a transaction that read first and then writes
    fails at once (SQLITE_BUSY_SNAPSHOT) when another thread committed in
    between, so the webhooks' read-then-write sections run one after another.
    PostgreSQL needs no such lock.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    with _sqlite_writes:
        yield


@dataclass
class Relay:
    """The common turn, with its collaborators injected."""

    rasa: RasaClient
    settings: Settings
    clock: Clock
    district: District
    calendar: BusinessCalendar

    def conversation_timeout(self, channel: str) -> timedelta | None:
        """How long an SMS or email thread may idle before a new conversation starts."""
        if channel == "voice":
            return None  # A call is its own conversation.
        return timedelta(minutes=self.settings.conversation_timeout_minutes)

    def open_conversation(
        self, *, session: Session, message: InboundMessage, conversation_key: str
    ) -> tuple[Conversation, bool]:
        """The conversation for a message; a new one is filed on the caller's account.

        Args:
            session: Database session.
            message: The inbound message (sender, channel, language).
            conversation_key: Phone number (SMS), CallSid (voice) or thread id (email).

        Returns:
            ``(conversation, created)``.
        """
        now = self.clock.now()
        conversation, created = get_or_open_conversation(
            session=session,
            channel=message.channel,
            external_id=conversation_key,
            now=now,
            timeout=self.conversation_timeout(message.channel),
            customer_address=message.sender,
            language=message.language or "en",
        )
        if created:
            self._identify(session=session, conversation=conversation, sender=message.sender)
        return conversation, created

    def _identify(self, *, session: Session, conversation: Conversation, sender: str) -> None:
        if "@" in sender:
            accounts = find_accounts_by_email(session=session, email=sender)
        else:
            accounts = find_accounts_by_phone(session=session, phone=sender)
        meta = dict(conversation.meta or {})
        meta["caller_accounts"] = [a.number for a in accounts]
        conversation.meta = meta
        if len(accounts) == 1:
            # Filing on the account is internal bookkeeping; disclosure still
            # needs the verification tiers (the assistant asks for a factor).
            link_conversation_to_account(
                session=session, conversation=conversation, account=accounts[0]
            )
            if accounts[0].language in ("en", "es") and conversation.channel != "voice":
                conversation.language = accounts[0].language
        session.flush()

    def account_hint(self, conversation: Conversation) -> str | None:
        """The single account number the sender matches, if exactly one."""
        numbers = (conversation.meta or {}).get("caller_accounts") or []
        return str(numbers[0]) if len(numbers) == 1 else None

    def record_inbound(
        self,
        *,
        session: Session,
        message: InboundMessage,
        conversation: Conversation,
        meta: Mapping[str, Any] | None = None,
    ) -> int:
        """Record the customer's message (cards removed); returns the log id.

        Raises:
            DuplicateMessage: The provider id is already recorded.
        """
        if message.external_id and already_recorded(
            session=session, external_id=message.external_id
        ):
            raise DuplicateMessage(message.external_id)
        details: dict[str, Any] = {"input": message.kind, **dict(message.meta), **dict(meta or {})}
        if message.media_urls:
            details["media_urls"] = list(message.media_urls)
        if find_cards(message.text):
            details["card_removed"] = True
        try:
            entry = record_contact(
                session=session,
                channel=message.channel,
                direction="inbound",
                kind=message.kind if message.kind != "text" else "message",
                body=message.text,
                at=self.clock.now(),
                conversation=conversation,
                actor="customer",
                external_id=message.external_id,
                meta=details,
            )
        except IntegrityError as exc:
            # A concurrent delivery of the same message won the insert; the
            # caller rolls back (the whole turn is for nothing then).
            raise DuplicateMessage(message.external_id or "") from exc
        return entry.id

    def record_replies(
        self,
        *,
        session: Session,
        conversation: Conversation,
        replies: Sequence[BotReply],
        rendered: Sequence[str] | None = None,
        ticket_id: int | None = None,
    ) -> None:
        """Record what the assistant answered (the rendered text when given)."""
        now = self.clock.now()
        texts = list(rendered) if rendered is not None else [r.text for r in replies if r.text]
        for text in texts:
            record_contact(
                session=session,
                channel=conversation.channel,
                direction="outbound",
                kind="message",
                body=text,
                at=now,
                conversation=conversation,
                actor="bot",
                ticket_id=ticket_id,
            )
        for reply in replies:
            if reply.custom is not None:
                record_contact(
                    session=session,
                    channel=conversation.channel,
                    direction="outbound",
                    kind="action",
                    body=f"assistant action: {reply.custom_type}",
                    at=now,
                    conversation=conversation,
                    actor="bot",
                    ticket_id=ticket_id,
                    meta={"custom": _safe_custom(reply.custom)},
                )
        session.flush()

    async def ask_rasa(
        self,
        *,
        conversation: Conversation,
        text: str,
        caller: str,
        timeout: float,
        extra_metadata: Mapping[str, Any] | None = None,
    ) -> list[BotReply]:
        """Send text to Rasa for this conversation (raises :class:`RasaUnavailable`)."""
        key = rasa_sender(conversation)
        metadata: dict[str, Any] = {
            "channel": conversation.channel,
            "conversation_id": key,
            "caller": caller,
            "language": conversation.language,
            "account_hint": self.account_hint(conversation),
        }
        metadata.update(extra_metadata or {})
        raw = await self.rasa.send(sender=key, message=text, metadata=metadata, timeout=timeout)
        return replies_from_rasa(raw)

    def open_fallback_ticket(
        self, *, session: Session, conversation: Conversation, customer_text: str, reason: str
    ) -> Ticket:
        """A ticket for a person to follow up when the assistant could not answer."""
        now = self.clock.now()
        summary = (
            f"The automated assistant was unavailable ({reason}) during a "
            f"{conversation.channel} conversation. The customer wrote or said: "
            f'"{redact_cards(customer_text)[:500]}". Please follow up.'
        )
        return open_ticket(
            session=session,
            calendar=self.calendar,
            intent="human_agent",
            channel=conversation.channel,
            summary=summary,
            now=now,
            conversation=conversation,
            reason="assistant unavailable",
            customer_text=customer_text,
            callback_number=conversation.customer_address
            if conversation.channel != "email"
            else "",
        )

    def begin_turn(
        self, *, session: Session, message: InboundMessage, conversation_key: str
    ) -> PendingTurn:
        """First half of a turn: conversation, lookup, inbound record; commits.

        Raises:
            DuplicateMessage: The message was already handled.
        """
        with serialized_writes(session):
            conversation, created = self.open_conversation(
                session=session, message=message, conversation_key=conversation_key
            )
            if message.language and message.language != conversation.language:
                conversation.language = message.language
            log_id = self.record_inbound(
                session=session, message=message, conversation=conversation
            )
            result = TurnResult(conversation=conversation, created=created, inbound_log_id=log_id)
            pending = PendingTurn(message=message, result=result)
            if conversation.status == "handed_off":
                self._attach_to_open_ticket(
                    session=session, conversation=conversation, log_id=log_id
                )
                result.handed_off = True
            else:
                pending.safe_text = redact_cards(message.text)
                if pending.safe_text != message.text:
                    pending.warned.append(
                        BotReply(
                            text=relay_text(self.district, conversation.language, "card_warning")
                        )
                    )
            session.commit()  # Hold no transaction while Rasa thinks.
        return pending

    async def ask_for(
        self,
        pending: PendingTurn,
        *,
        timeout: float,
        rasa_text: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
    ) -> list[BotReply] | RasaUnavailable:
        """Second half: ask Rasa (no database work); a failure is returned, not raised."""
        try:
            return await self.ask_rasa(
                conversation=pending.result.conversation,
                text=rasa_text or pending.safe_text,
                caller=pending.message.sender,
                timeout=timeout,
                extra_metadata=extra_metadata,
            )
        except RasaUnavailable as exc:
            return exc

    def finish_turn(
        self,
        *,
        session: Session,
        pending: PendingTurn,
        answer: list[BotReply] | RasaUnavailable,
        record_replies: bool = True,
        commit: bool = True,
    ) -> TurnResult:
        """Last part: record the answer, or apologise and open a ticket when Rasa failed.

        With ``commit=False`` the caller commits (after its own writes), so a
        turn costs two commits in all.
        """
        result = pending.result
        conversation = result.conversation
        if isinstance(answer, RasaUnavailable):
            logger.warning(
                "rasa unavailable on %s conversation %s: %s",
                conversation.channel,
                conversation.id,
                answer,
            )
            ticket = self.open_fallback_ticket(
                session=session,
                conversation=conversation,
                customer_text=pending.message.text,
                reason=str(answer),
            )
            apology = BotReply(text=relay_text(self.district, conversation.language, "unavailable"))
            result.replies = [*pending.warned, apology]
            result.degraded = True
            result.ticket_id = ticket.id
        else:
            # A hand-off made by an action during this turn is visible now.
            session.refresh(conversation)
            result.replies = [*pending.warned, *answer]
        if record_replies:
            self.record_replies(
                session=session,
                conversation=conversation,
                replies=result.replies,
                ticket_id=result.ticket_id,
            )
        conversation.last_activity_at = self.clock.now()
        if commit:
            session.commit()
        return result

    async def turn(
        self,
        *,
        session: Session,
        message: InboundMessage,
        conversation_key: str,
        timeout: float,
        rasa_text: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
        record_replies: bool = True,
    ) -> TurnResult:
        """Run one customer turn end to end (for async callers such as the inbox worker).

        Args:
            session: Database session; committed by this method.
            message: The customer's message.
            conversation_key: Which conversation it continues (see
                :meth:`open_conversation`).
            timeout: Seconds Rasa may take.
            rasa_text: What to send Rasa instead of the text (``/outage`` for a
                keyword, a button payload for a digit reply).
            extra_metadata: More metadata for Rasa (e.g. ``input: dtmf``).
            record_replies: Record the replies' texts (channels that render
                them differently record the rendered text themselves).

        Returns:
            The turn's result.

        Raises:
            DuplicateMessage: The message was already handled.
        """
        pending = self.begin_turn(
            session=session, message=message, conversation_key=conversation_key
        )
        if pending.result.handed_off:
            return pending.result
        answer = await self.ask_for(
            pending, timeout=timeout, rasa_text=rasa_text, extra_metadata=extra_metadata
        )
        with serialized_writes(session):
            return self.finish_turn(
                session=session, pending=pending, answer=answer, record_replies=record_replies
            )

    def turn_in_worker_thread(
        self,
        *,
        session: Session,
        message: InboundMessage,
        conversation_key: str,
        timeout: float,
        then: Callable[[TurnResult], T],
        rasa_text: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
    ) -> T:
        """A turn from a sync request handler (FastAPI's thread pool).

        The database work stays in the worker thread, off the event loop; only
        the Rasa request runs on the loop (``anyio.from_thread``), so many
        conversations wait on Rasa at once. ``then`` renders and records the
        replies; it runs in the same write section as the final commit.

        Raises:
            DuplicateMessage: The message was already handled.
        """
        pending = self.begin_turn(
            session=session, message=message, conversation_key=conversation_key
        )
        answer: list[BotReply] | RasaUnavailable | None = None
        if not pending.result.handed_off:
            answer = anyio.from_thread.run(
                partial(
                    self.ask_for,
                    pending,
                    timeout=timeout,
                    rasa_text=rasa_text,
                    extra_metadata=extra_metadata,
                )
            )
        with serialized_writes(session):
            result = pending.result
            if answer is not None:
                result = self.finish_turn(
                    session=session,
                    pending=pending,
                    answer=answer,
                    record_replies=False,
                    commit=False,
                )
            out = then(result)
            session.commit()
        return out

    def _attach_to_open_ticket(
        self, *, session: Session, conversation: Conversation, log_id: int
    ) -> None:
        ticket = session.scalars(
            select(Ticket)
            .where(
                Ticket.conversation_id == conversation.id,
                Ticket.status.in_(("new", "claimed", "waiting")),
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        ).first()
        if ticket is None:
            return
        entry = session.get(ContactLog, log_id)
        if entry is not None and entry.ticket_id is None:
            entry.ticket_id = ticket.id
            ticket.updated_at = self.clock.now()
        session.flush()


def rasa_sender(conversation: Conversation) -> str:
    """Rasa's sender id for a conversation: its unguessable ``key``.

    Rasa's tracker store outlives the gateway's database (ids restart in tests),
    so the integer id is never used as the sender.
    """
    return conversation.key


def _safe_custom(custom: Mapping[str, Any]) -> dict[str, Any]:
    """A custom payload fit for the contact log (strings capped, cards removed)."""
    safe: dict[str, Any] = {}
    for key, value in custom.items():
        if isinstance(value, str):
            safe[str(key)] = redact_cards(value)[:500]
        elif isinstance(value, int | float | bool) or value is None:
            safe[str(key)] = value
    return safe
