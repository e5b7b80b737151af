"""The Twilio Voice webhooks: ``POST /twilio/voice`` and the later turns under it.

Each handler takes the signed request and hands it to the flow; the TwiML
comes back as ``application/xml``. ``/language`` and ``/turn`` may ask Rasa,
so they run on the event loop with the database work in worker threads; the
others are plain database work in the thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from accounts.db import SessionDep
from channels.deps import ChannelServicesDep
from channels.signature import TwilioRequestDep
from channels.twiml import xml_response
from channels.voice import flow, handoff, payment

router = APIRouter(tags=["twilio"])


@router.post("/twilio/voice", response_class=Response)
def incoming_call(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """A new call: greeting, language choice, caller-ID lookup."""
    return xml_response(flow.start_call(services=services, session=session, tw=tw))


@router.post("/twilio/voice/language", response_class=Response)
async def choose_language(tw: TwilioRequestDep, services: ChannelServicesDep) -> Response:
    """The greeting's answer: 2 (or "español") → Spanish; else English."""
    return xml_response(await flow.choose_language(services=services, tw=tw))


@router.post("/twilio/voice/turn", response_class=Response)
async def gather_turn(tw: TwilioRequestDep, services: ChannelServicesDep) -> Response:
    """One ``<Gather>`` result: keypad, speech, or silence."""
    return xml_response(await flow.gather_turn(services=services, tw=tw))


@router.post("/twilio/voice/pay", response_class=Response)
def pay_result(tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep) -> Response:
    """``<Pay>``'s action: record the payment or the failure, speak the outcome."""
    return xml_response(payment.pay_result(services=services, session=session, tw=tw))


@router.post("/twilio/voice/dial", response_class=Response)
def dial_result(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """After ``<Dial>``/``<Enqueue>``: done if answered, else voicemail."""
    return xml_response(handoff.dial_result(services=services, session=session, tw=tw))


@router.post("/twilio/voice/whisper", response_class=Response)
def whisper(tw: TwilioRequestDep, session: SessionDep) -> Response:
    """What the CSR hears before the caller is connected: the case summary."""
    return xml_response(handoff.whisper(session=session, tw=tw))


@router.post("/twilio/voice/recorded", response_class=Response)
def voicemail_recorded(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """A voicemail is done: it becomes (or joins) a ticket with a callback request."""
    return xml_response(handoff.voicemail_recorded(services=services, session=session, tw=tw))


@router.post("/twilio/voice/transcription", response_class=Response)
def voicemail_transcription(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """Twilio's transcription of a voicemail: added to its ticket and the contact log."""
    handoff.voicemail_transcription(services=services, session=session, tw=tw)
    return Response(status_code=204)
