"""A CSR's reply to the customer, on the channel the customer used.

* SMS goes through the injected outbound SMS sender (``channels.outbound_sms.SmsSender``
  in the gateway; anything with the same ``send`` signature in tests), which
  honours opt-outs, writes the outbox and the contact log.
* Email becomes a threaded reply (``In-Reply-To``/``References`` of the customer's
  last message, one ``Re:`` prefix, the district signature) queued in the outbox
  table for the mail sender. A person wrote it, so it is not marked auto-submitted.
* A phone ticket becomes a callback task: the text is the CSR's script, the ticket
  page shows a click-to-call link, and the contact log has the task.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.district import District
from accounts.email_message import reply_subject
from accounts.models import ContactLog, Conversation, CsrUser, OutboundMessage, Ticket
from accounts.services.contacts import record_contact
from escalation.queue import InvalidRequest

__all__ = ["ReplyResult", "SmsSending", "deliver_reply"]

MAX_REPLY_CHARS = 5000


class SmsSending(Protocol):
    """The part of ``channels.outbound_sms.SmsSender`` a CSR reply needs."""

    def send(
        self,
        *,
        session: Session,
        to: str,
        body: str,
        purpose: str = ...,
        conversation: Conversation | None = ...,
        ticket_id: int | None = ...,
        actor: str = ...,
    ) -> list[OutboundMessage]:
        """Send ``body`` to ``to``; returns the outbox rows with their status."""
        ...


@dataclass
class ReplyResult:
    """What happened to a reply.

    Attributes:
        channel: ``sms``, ``email`` or ``voice``.
        status: ``sent``/``queued``/``console`` (on its way), ``blocked`` (the number
            opted out), ``failed``, or ``callback_task`` for a phone ticket.
        outbound_ids: Outbox rows written.
        callback_number: The number to call for a phone ticket.
    """

    channel: str
    status: str
    outbound_ids: list[int] = field(default_factory=list)
    callback_number: str = ""


def _customer_address(ticket: Ticket) -> str:
    if ticket.customer_address:
        return ticket.customer_address
    if ticket.conversation is not None:
        return ticket.conversation.customer_address
    return ""


def _last_inbound_email(session: Session, ticket: Ticket) -> ContactLog | None:
    if ticket.conversation_id is None:
        return None
    return session.scalars(
        select(ContactLog)
        .where(
            ContactLog.conversation_id == ticket.conversation_id,
            ContactLog.channel == "email",
            ContactLog.direction == "inbound",
        )
        .order_by(ContactLog.at.desc(), ContactLog.id.desc())
        .limit(1)
    ).first()


def _queue_email(
    *,
    session: Session,
    ticket: Ticket,
    user: CsrUser,
    to: str,
    text: str,
    now: datetime,
    district: District,
) -> ReplyResult:
    last = _last_inbound_email(session, ticket)
    meta = dict(last.meta) if last else {}
    conversation_meta = dict(ticket.conversation.meta) if ticket.conversation else {}
    message_id = (last.external_id if last else None) or conversation_meta.get("message_id", "")
    subject = str(meta.get("subject") or conversation_meta.get("subject") or "")
    references = [str(r) for r in meta.get("references", []) if r]
    if message_id and message_id not in references:
        references.append(message_id)
    domain = district.contact.email.rsplit("@", 1)[-1]
    headers = {"Message-ID": f"<csr-{ticket.id}-{secrets.token_hex(8)}@{domain}>"}
    if message_id:
        headers["In-Reply-To"] = message_id
        headers["References"] = " ".join(references[-20:])
    signature = district.email.signature.text(ticket.language)
    row = OutboundMessage(
        channel="email",
        purpose="reply",
        to_address=to,
        from_address=district.contact.email,
        subject=reply_subject(subject)[:300],
        body=f"{text.rstrip()}\n\n-- \n{signature}\n",
        headers=headers,
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        conversation_id=ticket.conversation_id,
        ticket_id=ticket.id,
    )
    session.add(row)
    session.flush()
    record_contact(
        session=session,
        channel="email",
        direction="outbound",
        kind="message",
        body=text,
        at=now,
        conversation=ticket.conversation,
        account=ticket.account,
        ticket_id=ticket.id,
        actor=f"csr:{user.username}",
        meta={"outbound_id": row.id, "subject": row.subject, "status": "queued"},
    )
    return ReplyResult(channel="email", status="queued", outbound_ids=[row.id])


def deliver_reply(
    *,
    session: Session,
    ticket: Ticket,
    user: CsrUser,
    text: str,
    now: datetime,
    district: District,
    sms: SmsSending | None,
) -> ReplyResult:
    """Send a CSR's reply on the ticket's channel. The caller checked the CSR may reply.

    Raises:
        InvalidRequest: Empty or too long text, no customer address, or a channel
            that cannot be answered (SMS without a configured sender).
    """
    text = text.strip()
    if not text:
        raise InvalidRequest("the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidRequest(f"the reply is longer than {MAX_REPLY_CHARS} characters")
    ticket.updated_at = now
    if ticket.channel == "voice":
        number = ticket.callback_number or _customer_address(ticket)
        if not number:
            raise InvalidRequest("this phone ticket has no number to call back")
        record_contact(
            session=session,
            channel="voice",
            direction="internal",
            kind="callback_task",
            body=f"Call back {number}: {text}",
            at=now,
            conversation=ticket.conversation,
            account=ticket.account,
            ticket_id=ticket.id,
            actor=f"csr:{user.username}",
            meta={"callback_number": number},
        )
        return ReplyResult(channel="voice", status="callback_task", callback_number=number)
    to = _customer_address(ticket)
    if not to:
        raise InvalidRequest("the ticket has no customer address to reply to")
    if ticket.channel == "email":
        return _queue_email(
            session=session, ticket=ticket, user=user, to=to, text=text, now=now, district=district
        )
    if ticket.channel == "sms":
        if sms is None:
            raise InvalidRequest("SMS sending is not configured on this gateway")
        rows = sms.send(
            session=session,
            to=to,
            body=text,
            purpose="reply",
            conversation=ticket.conversation,
            ticket_id=ticket.id,
            actor=f"csr:{user.username}",
        )
        statuses = {row.status for row in rows}
        status = (
            "blocked"
            if statuses == {"blocked"}
            else "failed"
            if "failed" in statuses
            else (rows[0].status if rows else "failed")
        )
        return ReplyResult(channel="sms", status=status, outbound_ids=[row.id for row in rows])
    raise InvalidRequest(f"cannot reply on the {ticket.channel} channel")
