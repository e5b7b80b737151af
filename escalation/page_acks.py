"""On-call staff acknowledging a page: "ACK" by text from a roster phone, or 1 on the page call.

A late ACK is still accepted; the first acknowledgment ends every outstanding
page of the ticket.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Page, Ticket
from accounts.phone import normalize_phone
from accounts.routing import EMERGENCY
from accounts.services.tickets import OPEN_STATUSES
from escalation.oncall import on_call_at, on_call_phones
from escalation.page_copy import emergency_details
from escalation.paging import OUTSTANDING, log_on_ticket, pages_of, paging_state

_ACK = re.compile(r"^\s*(?:ack|acknowledged?|ok\s+ack)\b[\s#:.-]*(\d+)?\s*[.!]*\s*$", re.I)


def acknowledge(*, session: Session, ticket: Ticket, phone: str, now: datetime, via: str) -> bool:
    """Record that the person at ``phone`` acknowledged the ticket's page.

    Returns:
        True when this acknowledged it; False when it was acknowledged already.
    """
    pages = pages_of(session, ticket.id)
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
    log_on_ticket(
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
