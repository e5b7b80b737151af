"""The contact log: every message, call event, email and action on an account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.models import Account, ContactLog, Conversation
from accounts.redact import redact_cards


def record_contact(
    *,
    session: Session,
    channel: str,
    direction: str,
    kind: str,
    body: str,
    at: datetime,
    conversation: Conversation | None = None,
    account: Account | None = None,
    ticket_id: int | None = None,
    actor: str = "customer",
    external_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> ContactLog:
    """Write one contact-log entry; card numbers never reach the table."""
    account_id = account.id if account else (conversation.account_id if conversation else None)
    entry = ContactLog(
        at=at,
        direction=direction,
        channel=channel,
        kind=kind,
        actor=actor,
        conversation_id=conversation.id if conversation else None,
        account_id=account_id,
        ticket_id=ticket_id,
        body=redact_cards(body),
        external_id=external_id,
        meta=meta or {},
    )
    session.add(entry)
    session.flush()
    return entry


def already_recorded(*, session: Session, external_id: str) -> bool:
    """True when a contact with this provider id (MessageSid, Message-ID) exists."""
    statement = select(ContactLog.id).where(ContactLog.external_id == external_id)
    return session.scalar(statement) is not None


def link_conversation_to_account(
    *, session: Session, conversation: Conversation, account: Account
) -> None:
    """Identify a conversation: it and its earlier contact-log entries join the account."""
    conversation.account_id = account.id
    session.execute(
        update(ContactLog)
        .where(ContactLog.conversation_id == conversation.id, ContactLog.account_id.is_(None))
        .values(account_id=account.id)
    )
    session.flush()


def transcript(*, session: Session, conversation_id: int, limit: int = 500) -> list[ContactLog]:
    """A conversation's contact-log entries in order."""
    statement = (
        select(ContactLog)
        .where(ContactLog.conversation_id == conversation_id)
        .order_by(ContactLog.at, ContactLog.id)
        .limit(limit)
    )
    return list(session.scalars(statement))
