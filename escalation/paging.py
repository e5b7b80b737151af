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

What a page says is :mod:`escalation.page_copy`, how it goes out
:mod:`escalation.page_transport`, acknowledgments :mod:`escalation.page_acks`;
:class:`escalation.pager.Pager` is what the rest of the product holds.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import as_utc
from accounts.models import Account, ContactLog, Page, Ticket
from accounts.routing import EMERGENCY
from accounts.services.contacts import record_contact
from accounts.services.tickets import OPEN_STATUSES
from escalation.oncall import PagingPolicy, Roster, on_call_at
from escalation.page_copy import (
    EmergencyDetails,
    emergency_details,
    page_sms_text,
    page_speech,
    page_twiml,
)
from escalation.page_transport import PageTransport

logger = logging.getLogger(__name__)

#: Pages still waiting for an acknowledgment ("failed" delivery still waits: the
#: other channel of the same step may have reached the person).
OUTSTANDING = ("sent", "failed")
#: An emergency ticket older than this that was never paged is left to the CSR queue.
UNPAGED_LOOKBACK = timedelta(hours=6)


def log_on_ticket(
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
    log_on_ticket(
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


def pages_of(session: Session, ticket_id: int) -> list[Page]:
    return list(session.scalars(select(Page).where(Page.ticket_id == ticket_id).order_by(Page.id)))


def paging_state(*, session: Session, ticket: Ticket) -> str:
    """``none`` (never paged), ``waiting``, ``acked`` or ``unanswered``."""
    pages = pages_of(session, ticket.id)
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
        log_on_ticket(
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
    if pages_of(session, ticket.id):
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
        log_on_ticket(
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
        pages = pages_of(session, ticket_id)
        outstanding = [p for p in pages if p.status in OUTSTANDING]
        if ticket.status not in OPEN_STATUSES:
            for page in outstanding:
                page.status = "expired"
            log_on_ticket(
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
        log_on_ticket(
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
            log_on_ticket(
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
