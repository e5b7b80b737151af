"""Opening tickets (hand-offs to the CSR queue) the same way from every channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.models import Account, Conversation, Ticket
from accounts.routing import route
from accounts.services.contacts import record_contact


def open_ticket(
    *,
    session: Session,
    calendar: BusinessCalendar,
    intent: str,
    channel: str,
    summary: str,
    now: datetime,
    conversation: Conversation | None = None,
    account: Account | None = None,
    reason: str = "",
    customer_text: str = "",
    level: str | None = None,
    priority: int | None = None,
    callback_number: str = "",
    attachments: list[dict[str, Any]] | None = None,
    hand_off: bool = True,
) -> Ticket:
    """Open a ticket routed by intent, due in business hours, logged on the account.

    With ``hand_off`` the conversation is marked handed off: the bot stays quiet
    on it until the ticket is resolved.
    """
    routed_level, routed_priority = route(intent, f"{summary} {customer_text}")
    level = level or routed_level
    priority = routed_priority if priority is None else priority
    if account is None and conversation is not None and conversation.account_id is not None:
        account = session.get(Account, conversation.account_id)
    ticket = Ticket(
        status="new",
        level=level,
        priority=priority,
        intent=intent,
        reason=reason[:200],
        channel=channel,
        customer_id=account.customer_id if account else None,
        account_id=account.id if account else None,
        conversation_id=conversation.id if conversation else None,
        verification_tier=conversation.verification_tier if conversation else 0,
        language=conversation.language if conversation else "en",
        summary=summary,
        customer_address=conversation.customer_address if conversation else "",
        callback_number=callback_number,
        attachments=attachments or [],
        due_at=calendar.ticket_due_at(now, level=level, priority=priority),
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    if conversation is not None and hand_off:
        conversation.status = "handed_off"
        conversation.outcome = "handed_off"
    record_contact(
        session=session,
        channel=channel,
        direction="internal",
        kind="escalation",
        body=f"Ticket #{ticket.id} opened for CSR {level}: {reason or intent}",
        at=now,
        conversation=conversation,
        account=account,
        ticket_id=ticket.id,
        actor="bot",
        meta={"intent": intent, "priority": priority, "level": level},
    )
    return ticket
