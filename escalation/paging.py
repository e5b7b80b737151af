"""Emergency paging: text and call the on-call person until someone acknowledges.

An emergency ticket (main break, sewer backup or overflow, hydrant hit,
flooding) pages the on-call primary at any hour with one SMS ("Reply ACK") and
one voice call ("press 1 to acknowledge"), both through the outbox
(``OutboundMessage`` purpose ``page``). Each page is a :class:`Page` row on the
ticket and an entry in the contact log with the ticket's id, so the CSR ticket
view shows every step.

Without an acknowledgment within ``PagingPolicy.ack_minutes`` the periodic
:func:`tick` (run by ``assistant oncall watch``) takes the next step of the
policy's plan: page the primary again, then the backup; when the plan is used
up the pages expire and the ticket stays at the top of the CSR queue with an
"unanswered" entry on it. A late ACK is still accepted.

Acknowledgments arrive as an SMS from a roster phone (:func:`handle_page_reply`,
called by the SMS webhook before anything else) or as digit 1 on the page call
(``POST /twilio/page/ack``, :mod:`escalation.paging_routes`).

The twilio client is synchronous: async callers run these functions in a
worker thread (``starlette.concurrency.run_in_threadpool``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import Gather, VoiceResponse

from accounts.clock import Clock, as_utc
from accounts.models import Account, ContactLog, OutboundMessage, Page, ServiceRequest, Ticket
from accounts.phone import normalize_phone
from accounts.redact import mask_address
from accounts.routing import EMERGENCY
from accounts.services.contacts import record_contact
from accounts.services.tickets import OPEN_STATUSES
from accounts.settings import Settings
from escalation.oncall import PagingPolicy, Roster, on_call_at, on_call_phones

__all__ = [
    "EmergencyDetails",
    "PageTransport",
    "Pager",
    "TwilioPageTransport",
    "acknowledge",
    "emergency_details",
    "handle_page_reply",
    "page_for_emergency",
    "page_sms_text",
    "page_twiml",
    "paging_state",
    "tick",
]

logger = logging.getLogger(__name__)

#: Pages still waiting for an acknowledgment ("failed" delivery still waits: the
#: other channel of the same step may have reached the person).
OUTSTANDING = ("sent", "failed")
#: An emergency ticket older than this that was never paged is left to the CSR queue.
UNPAGED_LOOKBACK = timedelta(hours=6)
_SMS_LIMIT = 600

_ACK = re.compile(r"^\s*(?:ack|acknowledged?|ok\s+ack)\b[\s#:.-]*(\d+)?\s*[.!]*\s*$", re.I)


# -- what a page says -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmergencyDetails:
    """What the on-call person needs: where, who called, what is happening."""

    address: str
    caller: str
    description: str
    kind: str


def emergency_details(
    *,
    session: Session,
    ticket: Ticket,
    address: str = "",
    caller: str = "",
    description: str = "",
) -> EmergencyDetails:
    """The page's facts: explicit values first, then the ticket's service request.

    The address falls back to the latest emergency service request of the
    ticket's conversation, then the account's service address; the caller to
    the ticket's callback number or the customer's phone.
    """
    request: ServiceRequest | None = None
    if ticket.conversation_id is not None:
        request = session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.conversation_id == ticket.conversation_id)
            .order_by(ServiceRequest.id.desc())
            .limit(1)
        ).first()
    account = session.get(Account, ticket.account_id) if ticket.account_id else None
    where = (
        address
        or (request.address if request else "")
        or (account.service_address if account else "")
    )
    who = caller or ticket.callback_number or ticket.customer_address
    what = description or (request.description if request else "") or ticket.summary
    kind = ((request.type if request else "") or ticket.reason or ticket.intent).replace("_", " ")
    if "emergenc" in kind:
        kind = "emergency"
    return EmergencyDetails(
        address=where.strip() or "address not given",
        caller=who.strip() or "unknown",
        description=" ".join(what.split()),
        kind=kind,
    )


def page_sms_text(ticket: Ticket, details: EmergencyDetails) -> str:
    """The SMS page: ticket, kind, address, caller, description, "Reply ACK"."""
    label = f" ({details.kind})" if details.kind != "emergency" else ""
    head = f"EMERGENCY #{ticket.id}{label}: {details.address}. Caller {details.caller}."
    tail = f" Reply ACK {ticket.id} to acknowledge."
    room = _SMS_LIMIT - len(head) - len(tail) - 3
    description = details.description
    if len(description) > room:
        # ASCII dots: one character outside GSM-7 would make the page UCS-2 (70/segment).
        description = description[: max(room - 3, 0)].rstrip() + "..."
    return f'{head} "{description}"{tail}' if description else head + tail


def _spoken_number(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = (digits[:3], digits[3:6], digits[6:])
        return ", ".join(" ".join(group) for group in groups)
    return " ".join(digits) if digits else number


def page_speech(ticket: Ticket, details: EmergencyDetails, district_name: str) -> str:
    """What the page call says before asking for 1."""
    return (
        f"This is the {district_name} emergency page. Emergency number {ticket.id}: "
        f"{details.kind} at {details.address}. Caller's number: {_spoken_number(details.caller)}. "
        f"Report: {details.description}"
    )


def page_twiml(*, speech: str, ack_url: str) -> str:
    """TwiML for the page call: say it twice inside a one-digit ``<Gather>``."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=ack_url, method="POST", timeout=8, input="dtmf")
    for _ in range(2):
        gather.say(speech, voice="Polly.Joanna", language="en-US")
        gather.say("Press 1 to acknowledge.", voice="Polly.Joanna", language="en-US")
    response.append(gather)
    response.say(
        "No acknowledgment received. You will be paged again.",
        voice="Polly.Joanna",
        language="en-US",
    )
    response.hangup()
    return str(response)


# -- how pages go out --------------------------------------------------------------


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


# -- paging ----------------------------------------------------------------------


def _log(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    body: str,
    at: datetime,
    channel: str = "system",
    direction: str = "internal",
    actor: str = "bot",
    meta: dict[str, Any] | None = None,
) -> None:
    account = session.get(Account, ticket.account_id) if ticket.account_id else None
    record_contact(
        session=session,
        channel=channel,
        direction=direction,
        kind=kind,
        body=body,
        at=at,
        account=account,
        ticket_id=ticket.id,
        actor=actor,
        meta=meta,
    )


def _log_page(
    session: Session,
    ticket: Ticket,
    page: Page,
    *,
    at: datetime,
    status: str,
    outbound_ids: list[int],
    body: str,
) -> None:
    """One page (an SMS or a call to the on-call person) in the ticket's contact log."""
    _log(
        session,
        ticket,
        kind="page",
        channel=page.channel,
        direction="outbound",
        at=at,
        body=body,
        meta={
            "page_id": page.id,
            "role": page.role,
            "attempt": page.attempt,
            "status": status,
            "outbound_ids": outbound_ids,
        },
    )


def _pages(session: Session, ticket_id: int) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.ticket_id == ticket_id).order_by(Page.id)))


def paging_state(*, session: Session, ticket: Ticket) -> str:
    """``none`` (never paged), ``waiting``, ``acked`` or ``unanswered``."""
    pages = _pages(session, ticket.id)
    if not pages:
        return "none"
    if any(p.status == "acked" for p in pages):
        return "acked"
    if any(p.status in OUTSTANDING for p in pages):
        return "waiting"
    return "unanswered"


def _send_step(
    *,
    session: Session,
    ticket: Ticket,
    role: str,
    attempt: int,
    roster: Roster,
    now: datetime,
    transport: PageTransport,
    details: EmergencyDetails,
) -> list[Page]:
    shift = roster.for_role(role)
    if shift is None:
        return []
    pages: list[Page] = []
    sms_text = page_sms_text(ticket, details)
    sms_page = Page(
        ticket_id=ticket.id,
        name=shift.name,
        phone=shift.phone,
        role=role,
        attempt=attempt,
        channel="sms",
        status="sent",
        sent_at=now,
    )
    voice_page = Page(
        ticket_id=ticket.id,
        name=shift.name,
        phone=shift.phone,
        role=role,
        attempt=attempt,
        channel="voice",
        status="sent",
        sent_at=now,
    )
    session.add_all([sms_page, voice_page])
    session.flush()
    verb = "Paged" if attempt == 1 else "Re-paged"
    rows = transport.send_sms(session=session, to=shift.phone, body=sms_text, ticket_id=ticket.id)
    sms_status = rows[0].status if rows else "failed"
    if sms_status in ("blocked", "failed"):
        sms_page.status = "failed"
    _log_page(
        session,
        ticket,
        sms_page,
        at=now,
        status=sms_status,
        outbound_ids=[row.id for row in rows],
        body=f"{verb} {role} on-call {shift.name} by SMS (attempt {attempt}): {sms_text}",
    )
    speech = page_speech(ticket, details, transport.district_name)
    twiml = page_twiml(speech=speech, ack_url=transport.ack_url(voice_page.id))
    call = transport.place_call(
        session=session, to=shift.phone, twiml=twiml, spoken=speech, ticket_id=ticket.id
    )
    if call.status == "failed":
        voice_page.status = "failed"
    _log_page(
        session,
        ticket,
        voice_page,
        at=now,
        status=call.status,
        outbound_ids=[call.id],
        body=f"{verb} {role} on-call {shift.name} by phone call (attempt {attempt}).",
    )
    pages += [sms_page, voice_page]
    logger.info(
        "ticket %s: paged %s (attempt %s), sms=%s call=%s",
        ticket.id,
        role,
        attempt,
        sms_status,
        call.status,
    )
    return pages


def _next_steps(
    *,
    session: Session,
    ticket: Ticket,
    done: int,
    now: datetime,
    transport: PageTransport,
    policy: PagingPolicy,
    details: EmergencyDetails,
) -> list[Page]:
    """Take plan steps from index ``done`` until one reaches somebody."""
    plan = policy.plan()
    roster = on_call_at(session=session, at=now)
    for role, attempt in plan[done:]:
        pages = _send_step(
            session=session,
            ticket=ticket,
            role=role,
            attempt=attempt,
            roster=roster,
            now=now,
            transport=transport,
            details=details,
        )
        if pages:
            return pages
        _log(
            session,
            ticket,
            kind="page_skipped",
            at=now,
            body=f"No {role} on call: page step skipped.",
            meta={"role": role},
        )
    return []


def page_for_emergency(
    *,
    session: Session,
    ticket: Ticket,
    now: datetime,
    transport: PageTransport,
    policy: PagingPolicy | None = None,
    address: str = "",
    caller: str = "",
    description: str = "",
) -> list[Page]:
    """Page the on-call primary (SMS + call) for an emergency ticket.

    The ticket is put at priority 0, the top of the CSR queue (in office hours a
    CSR sees it first; after hours it is first in the morning if nobody
    acknowledged). Calling it again for a ticket that was already paged does
    nothing, so a retried request never pages twice.

    Args:
        session: Database session; the caller commits.
        ticket: The emergency ticket (from ``accounts.services.tickets.open_ticket``).
        now: The current instant.
        transport: How pages go out (the gateway's :class:`Pager` holds one).
        policy: Paging steps; the default waits 5 minutes between steps.
        address: Where the emergency is (else the service request's or account's).
        caller: The reporter's number (else the ticket's callback number).
        description: What the reporter said (else the service request's or summary).

    Returns:
        The pages sent (an SMS and a call row), empty when nobody is on call or
        the ticket was paged before.
    """
    policy = policy or PagingPolicy()
    if _pages(session, ticket.id):
        return []
    if ticket.priority != EMERGENCY:
        ticket.priority = EMERGENCY
        ticket.updated_at = now
    details = emergency_details(
        session=session, ticket=ticket, address=address, caller=caller, description=description
    )
    pages = _next_steps(
        session=session,
        ticket=ticket,
        done=0,
        now=now,
        transport=transport,
        policy=policy,
        details=details,
    )
    if not pages:
        _log(
            session,
            ticket,
            kind="page_unanswered",
            at=now,
            body="Nobody is on call: the emergency waits at the top of the CSR queue.",
        )
        logger.warning("ticket %s: nobody on call to page", ticket.id)
    session.flush()
    return pages


def _page_unpaged(
    *, session: Session, now: datetime, transport: PageTransport, policy: PagingPolicy
) -> int:
    """Page open emergencies whose first page never happened (paging crashed mid-request).

    A ticket counts as handled once it has a page or a "nobody on call" entry.
    """
    handled = select(ContactLog.ticket_id).where(
        ContactLog.kind == "page_unanswered", ContactLog.ticket_id.is_not(None)
    )
    statement = (
        select(Ticket)
        .where(
            Ticket.priority == EMERGENCY,
            Ticket.intent == "report_emergency",
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.created_at >= now - UNPAGED_LOOKBACK,
            ~Ticket.id.in_(select(Page.ticket_id)),
            ~Ticket.id.in_(handled),
        )
        .order_by(Ticket.id)
    )
    count = 0
    for ticket in session.scalars(statement).all():
        page_for_emergency(
            session=session, ticket=ticket, now=now, transport=transport, policy=policy
        )
        count += 1
    return count


def tick(*, session: Session, now: datetime, transport: PageTransport, policy: PagingPolicy) -> int:
    """Re-page or escalate every emergency whose latest page went unacknowledged.

    Run every few seconds (``assistant oncall watch``); safe to run from several
    processes only if one at a time (the watch loop is a single process).

    Emergency tickets of the last hours that were never paged (the request that
    opened them failed while paging) get their first page here.

    Returns:
        How many tickets moved to their next step (or were given up on).
    """
    window = timedelta(minutes=policy.ack_minutes)
    moved = _page_unpaged(session=session, now=now, transport=transport, policy=policy)
    waiting = session.scalars(
        select(Page.ticket_id).where(Page.status.in_(OUTSTANDING)).distinct()
    ).all()
    plan = policy.plan()
    for ticket_id in waiting:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        pages = _pages(session, ticket_id)
        outstanding = [p for p in pages if p.status in OUTSTANDING]
        if ticket.status not in OPEN_STATUSES:
            for page in outstanding:
                page.status = "expired"
            _log(
                session,
                ticket,
                kind="page_stopped",
                at=now,
                body=f"Paging stopped: ticket {ticket.status}.",
            )
            moved += 1
            continue
        latest = max(as_utc(p.sent_at) for p in outstanding)
        if now - latest < window:
            continue
        for page in outstanding:
            page.status = "expired"
        names = sorted({p.name for p in outstanding})
        _log(
            session,
            ticket,
            kind="page_expired",
            at=now,
            body=(
                f"No acknowledgment from {', '.join(names)} within {policy.ack_minutes} minutes."
            ),
        )
        steps_done = [
            index
            for index, step in enumerate(plan)
            if any((p.role, p.attempt) == step for p in pages)
        ]
        done = max(steps_done) + 1 if steps_done else len(plan)
        details = emergency_details(session=session, ticket=ticket)
        sent = _next_steps(
            session=session,
            ticket=ticket,
            done=done,
            now=now,
            transport=transport,
            policy=policy,
            details=details,
        )
        if not sent:
            _log(
                session,
                ticket,
                kind="page_unanswered",
                at=now,
                body=(
                    "Nobody acknowledged the emergency page; paging stopped. The ticket stays at "
                    "the top of the CSR queue."
                ),
            )
            logger.warning("ticket %s: emergency page unanswered", ticket.id)
        moved += 1
    session.flush()
    return moved


# -- acknowledgments ----------------------------------------------------------------


def acknowledge(*, session: Session, ticket: Ticket, phone: str, now: datetime, via: str) -> bool:
    """Record that the person at ``phone`` acknowledged the ticket's page.

    Returns:
        True when this acknowledged it; False when it was acknowledged already.
    """
    pages = _pages(session, ticket.id)
    if any(p.status == "acked" for p in pages):
        return False
    mine = [p for p in pages if p.phone == phone and p.channel == via] or [
        p for p in pages if p.phone == phone
    ]
    acked = mine[-1] if mine else None
    if acked is None:
        # Somebody on the roster who was not paged took it: record their page too.
        roster = on_call_at(session=session, at=now)
        shift = next(
            (s for s in (roster.primary, roster.backup) if s is not None and s.phone == phone),
            None,
        )
        acked = Page(
            ticket_id=ticket.id,
            name=shift.name if shift else "on-call staff",
            phone=phone,
            role=shift.role if shift else "other",
            attempt=0,
            channel=via,
            status="acked",
            sent_at=now,
        )
        session.add(acked)
    for page in pages:
        if page.status in OUTSTANDING:
            page.status = "expired"
    acked.status, acked.acked_at = "acked", now
    ticket.updated_at = now
    channel_word = "SMS" if via == "sms" else "phone (pressed 1)"
    _log(
        session,
        ticket,
        kind="page_ack",
        channel=via,
        direction="inbound",
        actor=acked.name,
        at=now,
        body=f"{acked.name} acknowledged the emergency page by {channel_word}.",
        meta={"page_id": acked.id, "role": acked.role},
    )
    session.flush()
    return True


def _paged_tickets(session: Session, phone: str) -> list[Ticket]:
    """Open tickets paged to ``phone`` and not acknowledged yet, most recent page first."""
    statement = (
        select(Ticket)
        .join(Page, Page.ticket_id == Ticket.id)
        .where(Page.phone == phone, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Page.sent_at.desc(), Page.id.desc())
    )
    seen: dict[int, Ticket] = {}
    for ticket in session.scalars(statement):
        if ticket.id not in seen and paging_state(session=session, ticket=ticket) != "acked":
            seen[ticket.id] = ticket
    return list(seen.values())


def handle_page_reply(
    *, session: Session, from_number: str, body: str, now: datetime
) -> str | None:
    """Handle "ACK" / "ACK 12" texted by on-call staff; ``None`` for anything else.

    The SMS webhook calls this before keywords and the assistant: when it
    returns text, that is the whole reply and the message goes no further.
    Only phones on the on-call roster are considered, so a customer texting
    "ack" still reaches the assistant. The caller commits.

    Args:
        session: Database session.
        from_number: The sender (any format).
        body: The message text.
        now: The current instant.

    Returns:
        The reply to text back, or ``None`` when this is not a page reply.
    """
    phone = normalize_phone(from_number)
    match = _ACK.match(body or "")
    if phone is None or match is None or phone not in on_call_phones(session=session):
        return None
    wanted = int(match.group(1)) if match.group(1) else None
    candidates = _paged_tickets(session, phone)
    if wanted is not None:
        ticket = session.get(Ticket, wanted)
        if ticket is None or ticket.priority != EMERGENCY:
            return f"No emergency #{wanted} to acknowledge."
        if paging_state(session=session, ticket=ticket) == "acked":
            return f"Emergency #{wanted} was already acknowledged."
    elif candidates:
        ticket = candidates[0]
    else:
        return "No emergency page is waiting for your acknowledgment."
    acknowledge(session=session, ticket=ticket, phone=phone, now=now, via="sms")
    details = emergency_details(session=session, ticket=ticket)
    reply = f"Acknowledged emergency #{ticket.id} at {details.address}. Thank you."
    others = [t.id for t in candidates if t.id != ticket.id]
    if others:
        reply += " Also waiting: " + ", ".join(f"#{n}" for n in others) + " (reply ACK <number>)."
    return reply


# -- the product's view of paging ------------------------------------------------------

_CALL_VOICE = {"voice": "Polly.Joanna", "language": "en-US"}


def _say_and_hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(text, **_CALL_VOICE)
    response.hangup()
    return str(response)


@dataclass
class Pager:
    """Paging as the rest of the product uses it; the gateway builds one.

    Attributes:
        transport: How pages go out.
    """

    transport: PageTransport

    def page(
        self,
        *,
        session: Session,
        ticket: Ticket,
        now: datetime,
        address: str = "",
        caller: str = "",
        description: str = "",
    ) -> list[Page]:
        """Page on-call staff for an emergency ticket (see :func:`page_for_emergency`)."""
        return page_for_emergency(
            session=session,
            ticket=ticket,
            now=now,
            transport=self.transport,
            address=address,
            caller=caller,
            description=description,
        )

    def reply_by_sms(
        self, *, session: Session, from_number: str, body: str, now: datetime
    ) -> str | None:
        """An "ACK" texted by on-call staff (see :func:`handle_page_reply`)."""
        return handle_page_reply(session=session, from_number=from_number, body=body, now=now)

    def answer_call(
        self, *, session: Session, page_id: int, callee: str | None, digits: str, now: datetime
    ) -> str:
        """The TwiML for a key pressed on a page call: 1 acknowledges, else the page again.

        Args:
            session: Database session; the caller commits.
            page_id: The page the call belongs to (from the ``<Gather>`` URL).
            callee: The number the call went to (Twilio's ``To``).
            digits: What was pressed.
            now: The current instant.
        """
        page = session.get(Page, page_id) if page_id > 0 else None
        ticket = session.get(Ticket, page.ticket_id) if page is not None else None
        if page is None or ticket is None:
            return _say_and_hang_up("This page is no longer active. Goodbye.")
        if callee is not None and callee != page.phone:
            # A page URL replayed from another call: do not let it acknowledge.
            return _say_and_hang_up("This page is no longer active. Goodbye.")
        if digits == "1":
            if paging_state(session=session, ticket=ticket) == "acked":
                return _say_and_hang_up(
                    f"Emergency {ticket.id} was already acknowledged. Thank you. Goodbye."
                )
            acknowledge(session=session, ticket=ticket, phone=page.phone, now=now, via="voice")
            return _say_and_hang_up(
                f"Acknowledged. Emergency {ticket.id} is yours. The details are in your text "
                "messages. Goodbye."
            )
        details = emergency_details(session=session, ticket=ticket)
        return page_twiml(
            speech=page_speech(ticket, details, self.transport.district_name),
            ack_url=self.transport.ack_url(page.id),
        )
