"""Conversations per channel: an SMS thread per number, a call per CallSid, an email thread."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Conversation


def find_open_conversation(
    *, session: Session, channel: str, external_id: str
) -> Conversation | None:
    """The newest not-closed conversation for this channel and external id."""
    statement = (
        select(Conversation)
        .where(
            Conversation.channel == channel,
            Conversation.external_id == external_id,
            Conversation.status != "closed",
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def get_or_open_conversation(
    *,
    session: Session,
    channel: str,
    external_id: str,
    now: datetime,
    timeout: timedelta | None = None,
    customer_address: str = "",
    language: str = "en",
) -> tuple[Conversation, bool]:
    """The open conversation, or a new one; ``(conversation, created)``.

    An open conversation idle longer than ``timeout`` is closed and a new one
    starts — unless it is handed off to a person, which never times out.
    """
    conversation = find_open_conversation(session=session, channel=channel, external_id=external_id)
    if (
        conversation is not None
        and timeout is not None
        and conversation.status == "open"
        and now - conversation.last_activity_at > timeout
    ):
        close_conversation(session=session, conversation=conversation, now=now, outcome="timeout")
        conversation = None
    if conversation is not None:
        conversation.last_activity_at = now
        session.flush()
        return conversation, False
    conversation = Conversation(
        channel=channel,
        external_id=external_id,
        customer_address=customer_address or external_id,
        language=language,
        started_at=now,
        last_activity_at=now,
        meta={},
    )
    session.add(conversation)
    session.flush()
    return conversation, True


def close_conversation(
    *, session: Session, conversation: Conversation, now: datetime, outcome: str
) -> None:
    """Close a conversation, keeping an earlier, more telling outcome."""
    conversation.status = "closed"
    conversation.closed_at = now
    conversation.outcome = conversation.outcome or outcome
    session.flush()
