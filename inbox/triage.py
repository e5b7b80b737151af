"""Decide what to do with one parsed email, and record it, inside the caller's transaction.

Order of checks:

1. bounces: mark the failed address undeliverable, never answer;
2. a reply into a thread whose ticket is still open: add it to that ticket;
3. loop prevention (RFC 3834): never answer machines;
4. "please stop emailing me": an email opt-out in the consent ledger, no reply;
5. classify with the NLU (read ahead for a batch when an executor is given; an
   unsure reading is ``out_of_scope``) and act on the intent:
   tier-0 questions are answered, tier-1 questions are answered only when the
   sender's address is on file for the account (otherwise a reply explains how
   to get help without any account data), emergencies open an urgent ticket,
   and everything else (disputes, adjustments, complaints, start/stop, unclear,
   or a second request found sentence by sentence) becomes a ticket with the
   summary, the original message and its attachments.

The worker commits; nothing here commits or talks to the mail servers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.district import District
from accounts.email_message import text_to_html
from accounts.models import Account, ContactLog, ContactPoint, Conversation, OutboundMessage, Ticket
from accounts.redact import mask_address, redact_cards
from accounts.services.balance import balance_summary
from accounts.services.consent import record_opt_out
from accounts.services.contacts import link_conversation_to_account, record_contact
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_account_by_number, find_accounts_by_email
from accounts.services.notices import notices_for_account, notices_for_street
from accounts.services.service_requests import create_service_request
from accounts.services.tickets import open_ticket, open_ticket_of, reopen_on_customer_reply
from inbox import answers
from inbox.classify import Classification, Classifier
from inbox.loop_guard import Bounce, detect_bounce, reply_address, should_auto_reply
from inbox.parse import ParsedEmail
from inbox.reply import compose_reply
from inbox.sources import Outcome

log = logging.getLogger(__name__)

CHANNEL = "email"
AUTO_REPLY_PURPOSE = "auto_reply"

TIER0_ANSWERED = frozenset({"outage", "water_quality", "office_info", "rebate"})
TIER1_ANSWERED = frozenset({"check_balance", "make_payment", "service_restoration"})
# Conversation noise that carries no request of its own.
SMALL_TALK = frozenset({"greet", "goodbye", "thank_you", "affirm", "deny"})
# A closing line ("thanks!") after an answer: nothing to do.
CLOSING = frozenset({"thank_you", "goodbye"})
MIN_CONFIDENCE = 0.5

# Topics answered together: a balance question that also asks how to pay is one topic.
RELATED_TOPICS: dict[str, frozenset[str]] = {
    "check_balance": frozenset({"check_balance", "make_payment"}),
    "make_payment": frozenset({"check_balance", "make_payment"}),
    "outage": frozenset({"outage", "water_quality"}),
    "water_quality": frozenset({"outage", "water_quality"}),
}
# A sentence counts as a topic of its own only when the NLU is this sure of it.
SENTENCE_TOPIC_CONFIDENCE = 0.9
# Sentences that carry no topic of their own ("The invoice is attached.").
NO_TOPIC = SMALL_TALK | {"out_of_scope", "help", "human_agent", "bot_challenge"}
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")

# "Please stop emailing me": a consent request, not a service request (the NLU reads
# it as stop_service or a complaint, and a CSR must never stop the water for it).
_EMAIL_OPT_OUT = re.compile(
    r"\bunsubscribe\b|\bstop (?:sending (?:me )?)?e-?mail(?:s|ing)?\b"
    r"|\b(?:take|remove) me (?:off|from) (?:your|the|this) (?:e-?mail|mailing)(?: list)?"
    r"|\bno more e-?mails\b|\bdejen de (?:enviarme|mandarme) correos\b"
    r"|\bno me (?:env[ií]en|manden) (?:m[aá]s )?correos\b|\bdarme de baja\b",
    re.I,
)
# "512 Oak Street", "el 530 de Oak Street", "Maple Ave": a street a stranger names.
_STREET_IN_TEXT = re.compile(
    r"(?:\b(\d{1,5})\s+(?:de\s+)?)?\b((?:[A-Z][a-z]+\s+){1,2}"
    r"(?:Street|St|Avenue|Ave|Lane|Ln|Court|Ct|Drive|Dr|Way|Road|Rd|Boulevard|Blvd|Place|Pl))\b"
)
# Capitalised words that start a sentence rather than a street name ("Is Maple Ave closed?").
_NOT_A_STREET_NAME = frozenset(
    [
        "is",
        "are",
        "the",
        "on",
        "at",
        "in",
        "near",
        "by",
        "and",
        "or",
        "our",
        "my",
        "we",
        "i",
        "to",
        "from",
        "of",
        "hay",
        "en",
        "la",
        "el",
        "una",
        "un",
    ]
)
_ACCOUNT_IN_TEXT = re.compile(r"(?<![\d-])(\d{3}[- ]?\d{4})(?![\d-])")
_SPANISH_HINTS = re.compile(
    r"[¿¡ñ]|\b(hola|gracias|cuenta|agua|factura|saldo|pago|cu[aá]nto|por favor|buenos|"
    r"necesito|quiero|tengo|mi casa|servicio)\b",
    re.I,
)


@dataclass(frozen=True)
class TriageSettings:
    """What triage needs besides the session and the message."""

    district: District
    calendar: BusinessCalendar
    classifier: Classifier
    mailbox: str
    from_address: str
    own_addresses: frozenset[str]
    reply_cap_per_day: int


@dataclass
class TriageResult:
    """What happened to one email."""

    outcome: Outcome
    reason: str
    intent: str | None = None
    account_id: int | None = None
    conversation_id: int | None = None
    ticket_id: int | None = None
    reply_id: int | None = None
    bounce: Bounce | None = None
    details: dict[str, Any] = field(default_factory=dict)


def detect_language(parsed: ParsedEmail, account: Account | None) -> str:
    """``es`` for Spanish mail (or a Spanish-speaking account holder), else ``en``."""
    text = f"{parsed.subject}\n{parsed.new_text}"
    hits = len(_SPANISH_HINTS.findall(text))
    if hits >= 2 or (hits == 1 and len(text) < 60):
        return "es"
    if account is not None and account.customer.language.startswith("es") and hits:
        return "es"
    return "en"


def account_numbers_in(parsed: ParsedEmail) -> list[str]:
    """Account-number-like tokens in the subject and body (``1000417``, ``100-0417``)."""
    found: list[str] = []
    for text in (parsed.subject, parsed.new_text, parsed.text):
        for match in _ACCOUNT_IN_TEXT.finditer(text):
            digits = re.sub(r"\D", "", match.group(1))
            if digits not in found:
                found.append(digits)
    return found


def _thread_match(
    session: Session, parsed: ParsedEmail
) -> tuple[Conversation | None, Ticket | None]:
    ids = [i for i in parsed.thread_ids if i != parsed.message_id]
    if not ids:
        return None, None
    entries = session.scalars(
        select(ContactLog)
        .where(ContactLog.external_id.in_(ids), ContactLog.conversation_id.is_not(None))
        .order_by(ContactLog.id.desc())
    ).all()
    for entry in entries:
        conversation = session.get(Conversation, entry.conversation_id)
        if conversation is None:
            continue
        ticket = open_ticket_of(session=session, conversation_id=conversation.id)
        return conversation, ticket
    return None, None


def _replies_today(session: Session, address: str, now: datetime) -> int:
    count = session.scalar(
        select(func.count(OutboundMessage.id)).where(
            OutboundMessage.channel == CHANNEL,
            OutboundMessage.purpose == AUTO_REPLY_PURPOSE,
            OutboundMessage.to_address == address,
            OutboundMessage.created_at >= now - timedelta(days=1),
        )
    )
    return int(count or 0)


def _open_conversation(
    session: Session, parsed: ParsedEmail, *, now: datetime, language: str
) -> Conversation:
    conversation, _created = get_or_open_conversation(
        session=session,
        channel=CHANNEL,
        external_id=parsed.message_id,
        now=now,
        customer_address=parsed.from_address,
        language=language,
    )
    conversation.meta = {
        **(conversation.meta or {}),
        "subject": parsed.subject,
        "message_id": parsed.message_id,
    }
    return conversation


def asks_to_stop_email(parsed: ParsedEmail) -> bool:
    """The sender asks us to stop emailing them (unsubscribe)."""
    return bool(_EMAIL_OPT_OUT.search(f"{parsed.subject}\n{parsed.new_text}"))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` worth classifying on their own (three words or more)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.split()) >= 3]


def streets_in(text: str) -> list[str]:
    """Street addresses named in free text, as ``"530 Oak Street"`` / ``"Oak Street"``."""
    found: list[str] = []
    for number, street in _STREET_IN_TEXT.findall(text):
        words = street.split()
        if words[0].lower() in _NOT_A_STREET_NAME:
            words = words[1:]
        mention = " ".join([number, *words] if number else words)
        if mention not in found:
            found.append(mention)
    return found


def _summary(parsed: ParsedEmail, intent: str, reason: str) -> str:
    body = " ".join(parsed.new_text.split())[:400] or "(no text)"
    subject = parsed.subject or "(no subject)"
    attachments = f" Attachments: {len(parsed.attachments)}." if parsed.attachments else ""
    forwarded = " Forwarded message." if parsed.is_forwarded else ""
    return redact_cards(
        f"Email ({intent}; {reason}). Subject: {subject}. Customer wrote: {body}"
        f"{attachments}{forwarded}"
    )


class Triage:
    """Triage of single emails; one instance serves a worker.

    Args:
        settings: District, calendar, classifier and mailbox facts.
        now: The clock (``Clock.now``).
    """

    def __init__(
        self,
        settings: TriageSettings,
        *,
        now: Callable[[], datetime],
        executor: Executor | None = None,
    ) -> None:
        self.settings = settings
        self._now = now
        self._executor = executor
        self._pending: dict[str, Future[_Reading]] = {}

    def prefetch(self, batch: Sequence[ParsedEmail]) -> None:
        """Start reading ``batch`` with the NLU in the background (with an executor).

        The NLU then works on its own core while this thread parses and writes to
        the database; :meth:`handle` picks the readings up. Mail that will not be
        classified (bounces, machines, opt-outs) is left out.
        """
        if self._executor is None:
            return
        for parsed in batch:
            if parsed.message_id not in self._pending and self._will_classify(parsed):
                self._pending[parsed.message_id] = self._executor.submit(self._read, parsed)

    def discard_prefetched(self) -> None:
        """Forget readings not used (the batch stopped early)."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()

    def _will_classify(self, parsed: ParsedEmail) -> bool:
        own = self.settings.own_addresses
        return (
            bool(parsed.classification_text.strip())
            and detect_bounce(parsed, own_addresses=own) is None
            and should_auto_reply(parsed, own_addresses=own)[0]
            and not asks_to_stop_email(parsed)
        )

    def _reading(self, parsed: ParsedEmail) -> _Reading:
        future = self._pending.pop(parsed.message_id, None)
        if future is not None and not future.cancelled():
            return future.result()
        return self._read(parsed)

    def _read(self, parsed: ParsedEmail) -> _Reading:
        """The NLU's reading of the whole text and, for a question the bot would
        answer, of each sentence (to see a second request).

        The whole text's ranking cannot show a second request: the model puts
        nearly all its confidence on one intent even when an email asks three things.
        """
        text = parsed.classification_text
        if not text.strip():
            return _Reading(Classification(intent="out_of_scope", confidence=0.0))
        classifier = self.settings.classifier
        whole = classifier.classify(text)
        parts = sentences(text)
        if whole.intent not in TIER0_ANSWERED | TIER1_ANSWERED or len(parts) < 2:
            return _Reading(whole)
        return _Reading(whole, tuple(classifier.classify(part) for part in parts))

    # ------------------------------------------------------------------ entry point

    def handle(self, *, session: Session, parsed: ParsedEmail) -> TriageResult:
        """Triage ``parsed`` and record everything in ``session`` (not committed)."""
        now = self._now()
        own = self.settings.own_addresses

        bounce = detect_bounce(parsed, own_addresses=own)
        if bounce is not None:
            return self._bounce(session=session, parsed=parsed, bounce=bounce, now=now)

        sender_accounts = find_accounts_by_email(session=session, email=parsed.from_address)
        numbered = [
            account
            for number in account_numbers_in(parsed)
            if (account := find_account_by_number(session=session, number=number)) is not None
        ]
        account = (
            numbered[0] if numbered else (sender_accounts[0] if len(sender_accounts) == 1 else None)
        )
        language = detect_language(parsed, account)

        conversation, open_ticket_row = _thread_match(session, parsed)
        if conversation is None:
            conversation = _open_conversation(session, parsed, now=now, language=language)
        else:
            conversation.last_activity_at = now
        if account is not None and conversation.account_id is None:
            link_conversation_to_account(
                session=session, conversation=conversation, account=account
            )
        if account is None and conversation.account_id is not None:
            account = session.get(Account, conversation.account_id)

        inbound = self._record_inbound(
            session=session, parsed=parsed, conversation=conversation, account=account, now=now
        )
        result = TriageResult(
            outcome=Outcome.IGNORED,
            reason="",
            account_id=account.id if account else None,
            conversation_id=conversation.id,
        )

        if open_ticket_row is not None:
            # The customer answers on a case a person holds: it joins the case, no bot reply.
            inbound.ticket_id = open_ticket_row.id
            open_ticket_row.attachments = [
                *(open_ticket_row.attachments or []),
                *(a.as_dict() for a in parsed.attachments),
            ]
            open_ticket_row.updated_at = now
            if open_ticket_row.status == "waiting":
                # The CSR was waiting on the customer: the reply puts it back in the queue.
                reopen_on_customer_reply(
                    session=session,
                    conversation=conversation,
                    now=now,
                    calendar=self.settings.calendar,
                )
            result.outcome, result.reason = Outcome.ESCALATED, "added-to-open-ticket"
            result.ticket_id = open_ticket_row.id
            return result

        allowed, why = should_auto_reply(parsed, own_addresses=own)
        if not allowed:
            result.reason = why
            return result

        if asks_to_stop_email(parsed):
            record_opt_out(
                session=session,
                address=parsed.from_address,
                channel=CHANNEL,
                now=now,
                via="email",
                text=redact_cards(parsed.new_text)[:500],
            )
            # Answering "stop emailing me" with an email would be the first thing ignored.
            result.outcome, result.reason, result.intent = Outcome.IGNORED, "email-opt-out", None
            return result

        reading = self._reading(parsed)
        classification = reading.whole
        intent = classification.intent
        meta: dict[str, Any] = {"intent": intent, "confidence": classification.confidence}
        if classification.confidence < MIN_CONFIDENCE and intent != "out_of_scope":
            # Never act on a guess: an unsure reading is out of scope, for a person.
            meta["guess"] = intent
            intent = "out_of_scope"
        result.intent = intent
        inbound.meta = {**inbound.meta, **meta, "intent": intent}

        target = reply_address(parsed)
        context = _Context(
            session=session,
            parsed=parsed,
            conversation=conversation,
            account=account,
            sender_accounts=sender_accounts,
            language=language,
            now=now,
            target=target,
            result=result,
        )
        if intent in CLOSING:
            # "Thanks!" needs neither an answer nor a person; it is on the contact log.
            result.outcome, result.reason = Outcome.IGNORED, intent
        elif intent == "report_emergency":
            # Same record as the other channels: an emergency service request and a
            # priority-0 ticket, which the on-call watcher pages (escalation.paging).
            request = create_service_request(
                session=session,
                type="emergency",
                priority="emergency",
                description=redact_cards(parsed.classification_text)[:2000],
                source_channel=CHANNEL,
                now=now,
                account=account,
                # A passer-by's report names the place: the crew needs it more than anyone.
                address=(
                    account.service_address
                    if account
                    else next(iter(streets_in(parsed.classification_text)), "")
                ),
                conversation=conversation,
            )
            result.details["service_request"] = request.reference
            self._ticket(context, intent=intent, reason="emergency", priority=0)
        elif intent in NO_TOPIC:
            reason = "unclear" if intent == "out_of_scope" else intent
            self._ticket(context, intent=intent, reason=reason)
        elif (
            intent in TIER0_ANSWERED | TIER1_ANSWERED
            and (other := reading.other_topic(intent)) is not None
        ):
            # One answer would leave the other request unanswered: a person takes both.
            result.details["other_topic"] = other
            self._ticket(context, intent=intent, reason="multi-topic")
        elif parsed.attachments and intent not in TIER0_ANSWERED | TIER1_ANSWERED:
            self._ticket(context, intent=intent, reason=intent)
        elif intent in TIER0_ANSWERED:
            self._answer_tier0(context, intent)
        elif intent in TIER1_ANSWERED:
            self._answer_tier1(context, intent)
        else:
            self._ticket(context, intent=intent, reason=intent)
        return result

    def hand_to_person(self, *, session: Session, parsed: ParsedEmail) -> TriageResult:
        """Record ``parsed`` as a case for a CSR without reading it (triage failed on it).

        Nothing is answered: whatever broke triage may break an answer too.
        """
        now = self._now()
        conversation = _open_conversation(session, parsed, now=now, language="en")
        self._record_inbound(
            session=session, parsed=parsed, conversation=conversation, account=None, now=now
        )
        ticket = open_ticket(
            session=session,
            calendar=self.settings.calendar,
            intent="out_of_scope",
            channel=CHANNEL,
            summary=f"Email the assistant could not process. Subject: {parsed.subject}",
            now=now,
            conversation=conversation,
            reason="email: processing error",
            attachments=[a.as_dict() for a in parsed.attachments],
        )
        return TriageResult(
            outcome=Outcome.ESCALATED,
            reason="processing-error",
            conversation_id=conversation.id,
            ticket_id=ticket.id,
        )

    # ------------------------------------------------------------------ pieces

    def _record_inbound(
        self,
        *,
        session: Session,
        parsed: ParsedEmail,
        conversation: Conversation,
        account: Account | None,
        now: datetime,
    ) -> ContactLog:
        body = f"Subject: {parsed.subject}\n\n{parsed.text}".strip()
        return record_contact(
            session=session,
            channel=CHANNEL,
            direction="inbound",
            kind="message",
            body=body,
            at=now,
            conversation=conversation,
            account=account,
            actor="customer",
            external_id=parsed.message_id,
            meta={
                "subject": parsed.subject,
                "from": parsed.from_address,
                "message_id": parsed.message_id,
                "in_reply_to": parsed.in_reply_to,
                "references": list(parsed.references),
                "attachments": [a.as_dict() for a in parsed.attachments],
                "forwarded": parsed.is_forwarded,
                "mailbox": self.settings.mailbox,
            },
        )

    def _bounce(
        self, *, session: Session, parsed: ParsedEmail, bounce: Bounce, now: datetime
    ) -> TriageResult:
        marked: list[str] = []
        for address in bounce.failed_recipients:
            points = session.scalars(
                select(ContactPoint).where(
                    ContactPoint.kind == "email", ContactPoint.value == address
                )
            ).all()
            for point in points:
                point.undeliverable = True
                point.undeliverable_at = now
                accounts = session.scalars(
                    select(Account).where(Account.customer_id == point.customer_id)
                ).all()
                for account in accounts:
                    record_contact(
                        session=session,
                        channel=CHANNEL,
                        direction="internal",
                        kind="bounce",
                        body=f"Email to {address} bounced; marked undeliverable.",
                        at=now,
                        account=account,
                        actor="system",
                        meta={"message_id": parsed.message_id, "dsn": bounce.kind},
                    )
            if points:
                marked.append(address)
        log.info(
            "bounce (%s) for %s",
            bounce.kind,
            ", ".join(mask_address(a) for a in bounce.failed_recipients) or "no recipient",
        )
        return TriageResult(
            outcome=Outcome.IGNORED,
            reason="bounce",
            bounce=bounce,
            details={"marked_undeliverable": marked},
        )

    def _ticket(
        self, ctx: _Context, *, intent: str, reason: str, priority: int | None = None
    ) -> None:
        ticket = open_ticket(
            session=ctx.session,
            calendar=self.settings.calendar,
            intent=intent,
            channel=CHANNEL,
            summary=_summary(ctx.parsed, intent, reason),
            now=ctx.now,
            conversation=ctx.conversation,
            account=ctx.account,
            reason=f"email: {reason}",
            customer_text=ctx.parsed.new_text,
            priority=priority,
            attachments=[a.as_dict() for a in ctx.parsed.attachments],
        )
        ticket.language = ctx.language
        ctx.result.ticket_id = ticket.id
        ctx.result.outcome = Outcome.ESCALATED
        ctx.result.reason = reason
        due = self.settings.calendar.describe_next_opening(ctx.now, ctx.language)
        if ticket.priority == 0:
            due = "as soon as possible"
        text = answers.ticket_answer(
            ticket_id=ticket.id,
            due=due,
            language=ctx.language,
            emergency=ticket.priority == 0,
            district=self.settings.district,
        )
        self._reply(ctx, text, ticket_id=ticket.id)

    def _answer_tier0(self, ctx: _Context, intent: str) -> None:
        district = self.settings.district
        if intent in {"outage", "water_quality"}:
            if ctx.account is not None:
                notices = notices_for_account(session=ctx.session, account=ctx.account, now=ctx.now)
                address = ctx.account.service_address
            else:
                mentioned = streets_in(ctx.parsed.classification_text)
                notices = list(
                    {
                        notice.id: notice
                        for street in mentioned
                        for notice in notices_for_street(
                            session=ctx.session, text=street, now=ctx.now
                        )
                    }.values()
                )
                address = mentioned[0] if notices else ""
            if intent == "water_quality":
                notices = [n for n in notices if n.kind == "boil_water"] or notices
            if notices:
                text = answers.notices_answer(
                    notices, district=district, language=ctx.language, address=address
                )
            else:
                request = create_service_request(
                    session=ctx.session,
                    type=f"{intent}_report",
                    description=_summary(ctx.parsed, intent, "report"),
                    source_channel=CHANNEL,
                    now=ctx.now,
                    priority="high",
                    account=ctx.account,
                    address=ctx.account.service_address if ctx.account else "",
                    conversation=ctx.conversation,
                )
                text = answers.report_taken_answer(
                    reference=request.reference, kind=intent, language=ctx.language
                )
        elif intent == "office_info":
            text = answers.office_answer(
                district, self.settings.calendar, now=ctx.now, language=ctx.language
            )
        else:
            text = answers.rebates_answer(district, language=ctx.language)
        ctx.result.outcome, ctx.result.reason = Outcome.ANSWERED, intent
        self._reply(ctx, text)

    def _answer_tier1(self, ctx: _Context, intent: str) -> None:
        district = self.settings.district
        on_file = {a.id for a in ctx.sender_accounts}
        account = ctx.account
        if account is None and len(ctx.sender_accounts) > 1:
            ctx.result.outcome, ctx.result.reason = Outcome.ANSWERED, "which-account"
            self._reply(ctx, answers.which_account_answer(language=ctx.language))
            return
        if account is None or account.id not in on_file:
            # Not the address on file: no account data, only safe ways to get help.
            text = answers.verification_needed_answer(district=district, language=ctx.language)
            ctx.result.outcome, ctx.result.reason = Outcome.ANSWERED, "verification-needed"
            self._reply(ctx, text)
            return
        ctx.conversation.verification_tier = max(ctx.conversation.verification_tier, 1)
        summary = balance_summary(
            session=ctx.session, account=account, today=answers.today_in(district, ctx.now)
        )
        if intent == "check_balance":
            text = answers.balance_answer(
                summary, account=account, district=district, language=ctx.language
            )
            text += "\n\n" + answers.payment_answer(
                account=account, district=district, language=ctx.language
            )
        elif intent == "make_payment":
            text = answers.payment_answer(account=account, district=district, language=ctx.language)
        else:
            text = answers.restoration_answer(
                summary, account=account, district=district, language=ctx.language
            )
        ctx.result.outcome, ctx.result.reason = Outcome.ANSWERED, intent
        self._reply(ctx, text)

    def _reply(self, ctx: _Context, text: str, *, ticket_id: int | None = None) -> None:
        if _replies_today(ctx.session, ctx.target, ctx.now) >= self.settings.reply_cap_per_day:
            # The last line of defence against loops with machines that ignore RFC 3834.
            ctx.result.details["reply_suppressed"] = "daily-cap"
            if ctx.result.outcome == Outcome.ANSWERED:
                ctx.result.outcome, ctx.result.reason = Outcome.IGNORED, "reply-cap"
            return
        name = ctx.parsed.from_name
        if ctx.account is not None and ctx.account.id in {a.id for a in ctx.sender_accounts}:
            name = ctx.account.customer.name
        body = (
            f"{answers.greeting(name, ctx.language)}\n\n{text}\n\n{answers.closing(ctx.language)}"
        )
        signature = self.settings.district.email.signature.text(ctx.language)
        draft = compose_reply(
            ctx.parsed,
            to_address=ctx.target,
            body=body,
            from_address=self.settings.from_address,
            signature=signature,
        )
        row = OutboundMessage(
            channel=CHANNEL,
            purpose=AUTO_REPLY_PURPOSE,
            to_address=draft.to_address,
            from_address=draft.from_address,
            subject=draft.subject[:300],
            body=draft.body_text,
            html_body=text_to_html(draft.body_text),
            headers=draft.headers,
            status="queued",
            attempts=0,
            next_attempt_at=ctx.now,
            created_at=ctx.now,
            conversation_id=ctx.conversation.id,
            ticket_id=ticket_id,
        )
        ctx.session.add(row)
        ctx.session.flush()
        record_contact(
            session=ctx.session,
            channel=CHANNEL,
            direction="outbound",
            kind="message",
            body=draft.body_text,
            at=ctx.now,
            conversation=ctx.conversation,
            account=ctx.account,
            ticket_id=ticket_id,
            actor="bot",
            external_id=draft.headers["Message-ID"],
            meta={"outbound_id": row.id, "subject": draft.subject, "status": "queued"},
        )
        ctx.result.reply_id = row.id


@dataclass
class _Context:
    session: Session
    parsed: ParsedEmail
    conversation: Conversation
    account: Account | None
    sender_accounts: list[Account]
    language: str
    now: datetime
    target: str
    result: TriageResult


@dataclass(frozen=True)
class _Reading:
    """The NLU on one email: the whole text, and its sentences when they matter."""

    whole: Classification
    sentences: tuple[Classification, ...] = ()

    def other_topic(self, intent: str) -> str | None:
        """A request in a sentence that ``intent``'s answer would leave unanswered."""
        related = RELATED_TOPICS.get(intent, frozenset({intent}))
        for reading in self.sentences:
            if (
                reading.confidence >= SENTENCE_TOPIC_CONFIDENCE
                and reading.intent not in NO_TOPIC
                and reading.intent not in related
            ):
                return reading.intent
        return None
