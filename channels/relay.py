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

A turn costs two short transactions: one before Rasa is asked (committed, so
no lock is held while the model thinks) and one after. Database work runs in
a worker thread; only the wait for Rasa runs on the event loop. Concurrent
writers on SQLite queue on the database's busy timeout (``accounts.db``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import Clock
from accounts.district import District
from accounts.models import ContactLog, Conversation, Ticket
from accounts.redact import find_cards, redact_cards
from accounts.services.after_hours import after_hours_message
from accounts.services.contacts import (
    link_conversation_to_account,
    record_contact,
)
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_accounts_by_email, find_accounts_by_phone
from accounts.services.tickets import open_ticket, open_ticket_of, reopen_on_customer_reply
from accounts.settings import Settings
from channels.base import BotReply, InboundMessage, replies_from_rasa
from channels.language import detect_language
from channels.rasa_client import RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)

#: Seconds to wait for Rasa to accept a slot event (the caller is waiting).
SLOT_TIMEOUT_SECONDS = 1.0
#: Conversation meta flag: Rasa has answered here (its tracker has a session).
RASA_SESSION = "rasa_session"

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
        handed_off_now: This turn handed the conversation to a person.
        degraded: Rasa was unavailable; ``replies`` is the apology.
        ticket_id: The ticket opened because Rasa was unavailable.
        inbound: The contact-log entry of the inbound message.
    """

    conversation: Conversation
    replies: list[BotReply] = field(default_factory=list)
    created: bool = False
    handed_off: bool = False
    handed_off_now: bool = False
    degraded: bool = False
    ticket_id: int | None = None
    inbound: ContactLog | None = None

    @property
    def inbound_log_id(self) -> int | None:
        """The contact-log id of the inbound message."""
        return self.inbound.id if self.inbound is not None else None


@dataclass
class PendingTurn:
    """A turn between recording the message and hearing from Rasa."""

    message: InboundMessage
    result: TurnResult
    safe_text: str = ""
    warned: list[BotReply] = field(default_factory=list)


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

        A new conversation's language is, in order: what the channel knows
        (the caller chose it), the preference on file of the one matching
        account, the language of a first text from an unknown sender, English.

        Args:
            session: Database session.
            message: The inbound message (sender, channel, language).
            conversation_key: Phone number (SMS), CallSid (voice) or thread id (email).

        Returns:
            ``(conversation, created)``.
        """
        now = self.clock.now()
        _lock_key(session, f"conversation:{message.channel}:{conversation_key}")
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
            known = self._identify(
                session=session, conversation=conversation, sender=message.sender
            )
            if not known and message.language is None and message.kind == "text":
                conversation.language = detect_language(message.text) or conversation.language
        return conversation, created

    def _identify(self, *, session: Session, conversation: Conversation, sender: str) -> bool:
        """File a new conversation on the sender's account; True when exactly one matches."""
        if "@" in sender:
            accounts = find_accounts_by_email(session=session, email=sender)
        else:
            accounts = find_accounts_by_phone(session=session, phone=sender)
        meta = dict(conversation.meta or {})
        meta["caller_accounts"] = [a.number for a in accounts]
        conversation.meta = meta
        if len(accounts) != 1:
            return False
        # Filing on the account is internal bookkeeping; disclosure still
        # needs the verification tiers (the assistant asks for a factor).
        link_conversation_to_account(
            session=session, conversation=conversation, account=accounts[0]
        )
        if accounts[0].language in ("en", "es") and conversation.channel != "voice":
            conversation.language = accounts[0].language
        return True

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
    ) -> ContactLog:
        """Record the customer's message (cards removed); returns the log entry.

        Raises:
            DuplicateMessage: The provider id is already recorded (the unique
                external id refuses it; the caller rolls back).
        """
        details: dict[str, Any] = {"input": message.kind, **dict(message.meta), **dict(meta or {})}
        if message.media_urls:
            details["media_urls"] = list(message.media_urls)
        if find_cards(message.text):
            details["card_removed"] = True
        try:
            return record_contact(
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
            if "external_id" not in str(exc.orig):
                raise
            # A redelivery (earlier or concurrent) of the same message: the
            # caller rolls back (the whole turn is for nothing then).
            raise DuplicateMessage(message.external_id or "") from exc

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

    async def set_language(self, conversation: Conversation, language: str) -> None:
        """Tell Rasa the conversation's language changed (its ``language`` slot).

        Only once Rasa has answered in this conversation: before that, Rasa
        has no session, an event would start one without the gateway's
        metadata (channel, caller), and the first message's metadata carries
        the language anyway. A failure is logged, not raised: the gateway
        still speaks the new language.
        """
        if not (conversation.meta or {}).get(RASA_SESSION):
            return
        try:
            await self.rasa.set_slot(
                sender=rasa_sender(conversation),
                name="language",
                value=language,
                timeout=SLOT_TIMEOUT_SECONDS,
            )
        except RasaUnavailable as exc:
            logger.warning("language slot not set on conversation %s: %s", conversation.id, exc)

    def follow_up_text(self, language: str | None, *, emergency: bool = True) -> str:
        """When a person will follow up, from the business calendar (closed hours named)."""
        return after_hours_message(
            self.calendar, self.clock.now(), language or "en", emergency=emergency
        )

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
        self,
        *,
        session: Session,
        message: InboundMessage,
        conversation_key: str,
        conversation: Conversation | None = None,
    ) -> PendingTurn:
        """First half of a turn: conversation, lookup, inbound record; commits.

        Args:
            session: Database session.
            message: The customer's message.
            conversation_key: Which conversation it continues.
            conversation: The conversation, when the caller already opened it
                in this transaction (saves looking it up again).

        Raises:
            DuplicateMessage: The message was already handled.
        """
        created = False
        if conversation is None:
            conversation, created = self.open_conversation(
                session=session, message=message, conversation_key=conversation_key
            )
        if message.language and message.language != conversation.language:
            conversation.language = message.language
        entry = self.record_inbound(session=session, message=message, conversation=conversation)
        result = TurnResult(conversation=conversation, created=created, inbound=entry)
        pending = PendingTurn(message=message, result=result)
        if conversation.status == "handed_off":
            self._attach_to_open_ticket(session=session, conversation=conversation, entry=entry)
            result.handed_off = True
        else:
            pending.safe_text = redact_cards(message.text)
            if pending.safe_text != message.text:
                pending.warned.append(
                    BotReply(text=relay_text(self.district, conversation.language, "card_warning"))
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
        conversation = pending.result.conversation
        key = rasa_sender(conversation)
        metadata: dict[str, Any] = {
            "channel": conversation.channel,
            "conversation_id": key,
            "caller": pending.message.sender,
            "language": conversation.language,
            "account_hint": self.account_hint(conversation),
            **dict(extra_metadata or {}),
        }
        try:
            raw = await self.rasa.send(
                sender=key,
                message=rasa_text or pending.safe_text,
                metadata=metadata,
                timeout=timeout,
            )
        except RasaUnavailable as exc:
            return exc
        return replies_from_rasa(raw)

    def finish_turn(
        self,
        *,
        session: Session,
        pending: PendingTurn,
        answer: list[BotReply] | RasaUnavailable,
    ) -> TurnResult:
        """Last part: take the answer, or apologise and open a ticket when Rasa failed.

        The caller records the replies as it renders them, and commits.
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
            result.degraded = result.handed_off_now = True
            result.ticket_id = ticket.id
        else:
            # A hand-off or language change made by an action during this turn is visible now.
            session.refresh(conversation)
            result.handed_off_now = conversation.status == "handed_off" or any(
                r.custom_type == "handoff" for r in answer
            )
            result.replies = [*pending.warned, *answer]
            if not (conversation.meta or {}).get(RASA_SESSION):
                conversation.meta = {**(conversation.meta or {}), RASA_SESSION: True}
        conversation.last_activity_at = self.clock.now()
        return result

    async def complete_turn(
        self,
        *,
        session: Session,
        pending: PendingTurn,
        timeout: float,
        then: Callable[[TurnResult], T],
        rasa_text: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
    ) -> T:
        """After :meth:`begin_turn`: ask Rasa (event loop), then answer (worker thread).

        Args:
            session: Database session; committed after ``then``.
            pending: The begun turn (nothing is asked when it is handed off).
            timeout: Seconds Rasa may take.
            then: Renders and records the replies in the second transaction;
                its result is returned.
            rasa_text: What to send Rasa instead of the text (``/outage`` for a
                keyword, a button payload for a digit reply).
            extra_metadata: More metadata for Rasa (e.g. ``input: dtmf``).
        """
        answer: list[BotReply] | RasaUnavailable | None = None
        if not pending.result.handed_off:
            answer = await self.ask_for(
                pending, timeout=timeout, rasa_text=rasa_text, extra_metadata=extra_metadata
            )

        def second() -> T:
            result = pending.result
            if answer is not None:
                result = self.finish_turn(session=session, pending=pending, answer=answer)
            out = then(result)
            session.commit()
            return out

        return await anyio.to_thread.run_sync(second)

    async def turn(
        self,
        *,
        session: Session,
        message: InboundMessage,
        conversation_key: str,
        timeout: float,
        rasa_text: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
    ) -> TurnResult:
        """One turn end to end, recording the replies as they are (email).

        Both transactions run in worker threads; only the wait for Rasa runs on
        the event loop (a SQLite writer may queue on the busy timeout).

        Raises:
            DuplicateMessage: The message was already handled.
        """

        def record(result: TurnResult) -> TurnResult:
            self.record_replies(
                session=session,
                conversation=result.conversation,
                replies=result.replies,
                ticket_id=result.ticket_id,
            )
            return result

        pending = await anyio.to_thread.run_sync(
            partial(
                self.begin_turn,
                session=session,
                message=message,
                conversation_key=conversation_key,
            )
        )
        return await self.complete_turn(
            session=session,
            pending=pending,
            timeout=timeout,
            then=record,
            rasa_text=rasa_text,
            extra_metadata=extra_metadata,
        )

    def _attach_to_open_ticket(
        self, *, session: Session, conversation: Conversation, entry: ContactLog
    ) -> None:
        ticket = open_ticket_of(session=session, conversation_id=conversation.id)
        if ticket is not None and entry.ticket_id is None:
            entry.ticket_id = ticket.id
            ticket.updated_at = self.clock.now()
            if ticket.status == "waiting":
                # The CSR was waiting on the customer: the reply puts it back in the queue.
                reopen_on_customer_reply(
                    session=session,
                    conversation=conversation,
                    now=self.clock.now(),
                    calendar=self.calendar,
                )


def _lock_key(session: Session, key: str) -> None:
    """Serialise transactions that may create the same row, until commit.

    Two texts from one number arriving together must not open two
    conversations. SQLite writers already run one at a time (``BEGIN
    IMMEDIATE``); PostgreSQL takes a transaction-scoped advisory lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def remember_answer(entry: ContactLog | None, twiml: str) -> None:
    """Keep the answer on the request's log entry, for a redelivery of the same request."""
    if entry is not None:
        entry.meta = {**(entry.meta or {}), "twiml": twiml}


def answered_before(session: Session, external_id: str) -> str | None:
    """What the first delivery of a request was answered (rolls back first).

    ``None`` while the first delivery is still being handled.
    """
    session.rollback()
    entry = session.scalars(select(ContactLog).where(ContactLog.external_id == external_id)).first()
    twiml = (entry.meta or {}).get("twiml") if entry is not None else None
    return twiml if isinstance(twiml, str) else None


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
