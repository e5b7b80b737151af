"""The ticket lifecycle every channel shares: opening, "the open ticket", reopening.

Opening a ticket hands the conversation to the CSR queue the same way from
every channel; what the CSRs then do with it is ``escalation.queue``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.models import Account, Conversation, Ticket
from accounts.routing import route
from accounts.services.contacts import record_contact

#: A ticket in one of these is still with the CSRs.
OPEN_STATUSES = ("new", "claimed", "waiting")


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


def open_ticket_of(
    *, session: Session, conversation_id: int, exclude_intent: str | None = None
) -> Ticket | None:
    """The conversation's open ticket (the newest, when there are several), if any.

    Args:
        session: Database session.
        conversation_id: The conversation.
        exclude_intent: Leave tickets of this intent out (an emergency ticket is
            the on-call crew's, not the hand-off a customer asked for).
    """
    statement = select(Ticket).where(
        Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN_STATUSES)
    )
    if exclude_intent is not None:
        statement = statement.where(Ticket.intent != exclude_intent)
    return session.scalars(statement.order_by(Ticket.id.desc()).limit(1)).first()


def reopen_on_customer_reply(
    *,
    session: Session,
    conversation: Conversation,
    now: datetime,
    calendar: BusinessCalendar,
) -> list[Ticket]:
    """A customer wrote again on a conversation: bring its waiting tickets back.

    A waiting ticket goes back to its CSR (``claimed``), or to the queue when nobody
    holds it, with a fresh due time. Channels call this for every inbound message
    on a handed-off conversation.

    Returns:
        The reopened tickets.
    """
    tickets = list(
        session.scalars(
            select(Ticket).where(
                Ticket.conversation_id == conversation.id, Ticket.status == "waiting"
            )
        )
    )
    for ticket in tickets:
        ticket.status = "claimed" if ticket.claimed_by_id else "new"
        ticket.due_at = calendar.ticket_due_at(now, level=ticket.level, priority=ticket.priority)
        ticket.updated_at = now
        record_contact(
            session=session,
            channel=ticket.channel,
            direction="internal",
            kind="csr_action",
            body=f"Ticket #{ticket.id} reopened: the customer replied",
            at=now,
            conversation=ticket.conversation,
            account=ticket.account,
            ticket_id=ticket.id,
            actor="customer",
            meta={"action": "reopen"},
        )
    session.flush()
    return tickets
