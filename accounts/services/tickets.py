"""The ticket lifecycle every channel shares: opening, "the open ticket", reopening.

Opening a ticket hands the conversation to the CSR queue the same way from
every channel; what the CSRs then do with it is ``escalation.queue``. A
voicemail left on the phone line opens a callback ticket (or joins the call's
ticket), and its transcription follows onto it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.models import Account, ContactLog, Conversation, Ticket
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


def take_voicemail(
    *,
    session: Session,
    calendar: BusinessCalendar,
    conversation: Conversation,
    ticket: Ticket | None,
    callback_number: str,
    recording_url: str,
    recording_sid: str,
    duration: int,
    now: datetime,
) -> Ticket:
    """A voicemail joins the call's ticket, or opens a ticket asking for a call back.

    Args:
        session: Database session (flushed, not committed).
        calendar: Business calendar (the new ticket's due time).
        conversation: The call.
        ticket: The ticket the call was handed off with, if any.
        callback_number: The caller's number ("" for an anonymous caller).
        recording_url: Where the provider keeps the recording.
        recording_sid: The provider's id of the recording.
        duration: The recording's length in seconds.
        now: The time the voicemail was left.

    Returns:
        The ticket that carries the recording.
    """
    attachment = {
        "kind": "voicemail",
        "url": recording_url,
        "recording_sid": recording_sid,
        "duration": duration,
    }
    if ticket is None:
        ticket = open_ticket(
            session=session,
            calendar=calendar,
            intent="callback",
            channel="voice",
            now=now,
            conversation=conversation,
            summary=(
                f"Voicemail ({duration} s) left after hours; the caller asks for a call back "
                f"at {callback_number or 'anonymous'}. Transcription follows when ready."
            ),
            reason="voicemail: callback requested",
            callback_number=callback_number,
            attachments=[attachment],
        )
    else:
        ticket.attachments = [*list(ticket.attachments or []), attachment]
        if callback_number and not ticket.callback_number:
            ticket.callback_number = callback_number
        ticket.updated_at = now
    conversation.outcome = conversation.outcome or "voicemail"
    return ticket


def add_voicemail_transcription(
    *,
    session: Session,
    ticket: Ticket | None,
    recording_key: str,
    transcription_key: str,
    recording_sid: str,
    status: str,
    transcript: str,
    now: datetime,
) -> None:
    """A voicemail's transcription goes on the contact log and its ticket's summary, once.

    Args:
        session: Database session (flushed, not committed).
        ticket: The ticket named by the callback, if any; else the ticket the
            voicemail was filed on.
        recording_key: The contact-log external id of the voicemail.
        transcription_key: The contact-log external id of this transcription
            (a redelivery with the same key changes nothing).
        recording_sid: The provider's id of the recording.
        status: The provider's transcription status (``completed`` when done).
        transcript: The transcribed text, card numbers already removed.
        now: The time the transcription arrived.
    """
    recording = session.scalars(
        select(ContactLog).where(ContactLog.external_id == recording_key)
    ).first()
    if ticket is None and recording is not None and recording.ticket_id is not None:
        ticket = session.get(Ticket, recording.ticket_id)
    existing = session.scalars(
        select(ContactLog).where(ContactLog.external_id == transcription_key)
    ).first()
    if existing is not None:
        return
    conversation = (
        session.get(Conversation, recording.conversation_id)
        if recording is not None and recording.conversation_id
        else None
    )
    record_contact(
        session=session,
        channel="voice",
        direction="inbound",
        kind="transcription",
        body=transcript if status == "completed" else f"(transcription {status or 'failed'})",
        at=now,
        conversation=conversation,
        ticket_id=ticket.id if ticket else None,
        external_id=transcription_key,
        meta={"recording_sid": recording_sid, "status": status},
    )
    if ticket is not None and status == "completed" and transcript:
        ticket.summary = f"{ticket.summary}\nVoicemail transcription: {transcript}"
        ticket.updated_at = now
