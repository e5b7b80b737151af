"""``POST /twilio/page/ack``: the on-call person pressed a key on the page call.

The page call's ``<Gather>`` posts here with ``?page=<Page id>``; the request is
signature-checked like every Twilio webhook. Digit 1 acknowledges the ticket's
page; anything else repeats the page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from twilio.twiml.voice_response import VoiceResponse

from accounts.db import SessionDep
from accounts.deps import ClockDep, ContextDep
from accounts.models import Page, Ticket
from accounts.phone import normalize_phone
from channels.signature import TwilioRequestDep
from escalation.paging import (
    ACK_PATH,
    acknowledge,
    emergency_details,
    page_speech,
    page_twiml,
    paging_state,
    transport_for,
)

router = APIRouter(tags=["paging"])

XML = "application/xml"
_VOICE = {"voice": "Polly.Joanna", "language": "en-US"}


def _say_and_hang_up(text: str) -> Response:
    response = VoiceResponse()
    response.say(text, **_VOICE)
    response.hangup()
    return Response(content=str(response), media_type=XML)


@router.post(ACK_PATH, response_class=Response)
def page_ack(
    tw: TwilioRequestDep,
    session: SessionDep,
    clock: ClockDep,
    context: ContextDep,
    page_id: Annotated[int, Query(alias="page")] = 0,
) -> Response:
    """Digit 1 acknowledges the page; other input hears the page again."""
    page = session.get(Page, page_id) if page_id > 0 else None
    ticket = session.get(Ticket, page.ticket_id) if page is not None else None
    if page is None or ticket is None:
        return _say_and_hang_up("This page is no longer active. Goodbye.")
    callee = normalize_phone(tw.get("To"))
    if callee is not None and callee != page.phone:
        # A page URL replayed from another call: do not let it acknowledge.
        return _say_and_hang_up("This page is no longer active. Goodbye.")
    now = clock.now()
    if tw.get("Digits") == "1":
        if paging_state(session=session, ticket=ticket) == "acked":
            session.commit()
            return _say_and_hang_up(
                f"Emergency {ticket.id} was already acknowledged. Thank you. Goodbye."
            )
        acknowledge(session=session, ticket=ticket, phone=page.phone, now=now, via="voice")
        session.commit()
        return _say_and_hang_up(
            f"Acknowledged. Emergency {ticket.id} is yours. The details are in your text "
            "messages. Goodbye."
        )
    transport = transport_for(context)
    details = emergency_details(session=session, ticket=ticket)
    twiml = page_twiml(
        speech=page_speech(ticket, details, context.district.name),
        ack_url=transport.ack_url(page.id),
    )
    return Response(content=twiml, media_type=XML)
