"""After a hand-off: the transfer's result, the whisper to the CSR, the voicemail.

A transfer nobody answers goes to voicemail; a voicemail becomes (or joins) a
ticket with a callback request, and its transcription follows onto the ticket
(:mod:`accounts.services.tickets`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Ticket
from accounts.redact import redact_cards
from accounts.services.contacts import record_contact
from accounts.services.tickets import add_voicemail_transcription, take_voicemail
from channels.deps import ChannelServices
from channels.relay import DuplicateMessage, remember_answer
from channels.signature import TwilioRequest
from channels.twiml import render_voicemail, say
from channels.voice import inbound
from channels.voice.copy import text
from channels.voice.render import handoff_route, voice_urls
from channels.voice.state import (
    call_conversation,
    next_turn,
    recording_key,
    replay,
    transcription_key,
)


def dial_result(*, services: ChannelServices, session: Session, tw: TwilioRequest) -> str:
    """After ``<Dial>``/``<Enqueue>``: done if answered, else voicemail; commits."""
    conversation = call_conversation(services, session, tw)
    status = (tw.get("DialCallStatus") or tw.get("QueueResult")).lower()
    ticket = _ticket_from_query(session, tw)
    now = services.clock.now()
    record_contact(
        session=session,
        channel="voice",
        direction="internal",
        kind="transfer",
        body=f"Transfer to a representative: {status or 'unknown'}.",
        at=now,
        conversation=conversation,
        actor="system",
        ticket_id=ticket.id if ticket else None,
    )
    response = VoiceResponse()
    if status in ("completed", "answered", "bridged"):
        conversation.outcome = conversation.outcome or "transferred"
        response.hangup()
    else:
        n = next_turn(conversation)
        route = handoff_route(services, conversation.language)
        render_voicemail(
            response,
            language=conversation.language,
            urls=voice_urls(services, n),
            ticket_id=ticket.id if ticket else None,
            after_hours=None if route.office_open else route.after_hours,
        )
    session.commit()
    return str(response)


def whisper(*, session: Session, tw: TwilioRequest) -> str:
    """What the CSR hears before the caller is connected: the case summary."""
    ticket = _ticket_from_query(session, tw)
    response = VoiceResponse()
    if ticket is not None:
        summary = redact_cards(ticket.summary)[:600]
        say(response, text("en", "whisper", ticket=ticket.id, summary=summary), "en")
    else:
        say(response, text("en", "whisper_plain"), "en")
    return str(response)


def voicemail_recorded(*, services: ChannelServices, session: Session, tw: TwilioRequest) -> str:
    """A voicemail is done: it becomes (or joins) a ticket with a callback request; commits."""
    conversation = call_conversation(services, session, tw)
    language = conversation.language
    recording_sid = tw.get("RecordingSid")[:64]
    recording_url = tw.get("RecordingUrl")[:1000]
    try:
        duration = int(tw.get("RecordingDuration") or "0")
    except ValueError:
        duration = 0
    response = VoiceResponse()
    if not recording_url or duration <= 0:
        say(response, text(language, "goodbye"), language)
        response.hangup()
        return str(response)
    key = recording_key(recording_sid or tw.get("CallSid"))
    message = inbound.message(
        tw,
        text_value="(voicemail)",
        kind="voicemail",
        key=key,
        meta={"recording_url": recording_url, "recording_sid": recording_sid, "duration": duration},
    )
    try:
        entry = services.relay.record_inbound(
            session=session, message=message, conversation=conversation
        )
    except DuplicateMessage:
        return replay(session, key, conversation)
    caller = inbound.caller(tw)
    ticket = take_voicemail(
        session=session,
        calendar=services.calendar,
        conversation=conversation,
        ticket=_ticket_from_query(session, tw),
        callback_number="" if caller == "anonymous" else caller,
        recording_url=recording_url,
        recording_sid=recording_sid,
        duration=duration,
        now=services.clock.now(),
    )
    entry.ticket_id = ticket.id
    say(response, text(language, "voicemail_thanks"), language)
    response.hangup()
    twiml = str(response)
    remember_answer(entry, twiml)
    session.commit()
    return twiml


def voicemail_transcription(
    *, services: ChannelServices, session: Session, tw: TwilioRequest
) -> None:
    """Twilio's transcription of a voicemail: added to its ticket and the contact log; commits."""
    recording_sid = tw.get("RecordingSid")[:64]
    add_voicemail_transcription(
        session=session,
        ticket=_ticket_from_query(session, tw),
        recording_key=recording_key(recording_sid),
        transcription_key=transcription_key(recording_sid),
        recording_sid=recording_sid,
        status=tw.get("TranscriptionStatus").lower(),
        transcript=redact_cards(tw.get("TranscriptionText"))[:4000],
        now=services.clock.now(),
    )
    session.commit()


def _ticket_from_query(session: Session, tw: TwilioRequest) -> Ticket | None:
    """The ticket named in the callback URL (``?ticket=``), if it exists."""
    raw = inbound.query(tw).get("ticket", "")
    if not raw.isdigit() or len(raw) > 12:
        return None
    return session.get(Ticket, int(raw))
