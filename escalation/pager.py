"""Paging as the rest of the product holds it: page, an "ACK" by text, a key on the page call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Page, Ticket
from escalation.page_acks import acknowledge, handle_page_reply
from escalation.page_copy import emergency_details, page_speech, page_twiml
from escalation.page_transport import PageTransport
from escalation.paging import page_for_emergency, paging_state

_CALL_VOICE = {"voice": "Polly.Joanna", "language": "en-US"}


def _say_and_hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(text, **_CALL_VOICE)
    response.hangup()
    return str(response)


@dataclass
class Pager:
    """Paging as the rest of the product uses it; the gateway builds one.

    Attributes:
        transport: How pages go out.
    """

    transport: PageTransport

    def page(
        self,
        *,
        session: Session,
        ticket: Ticket,
        now: datetime,
        address: str = "",
        caller: str = "",
        description: str = "",
    ) -> list[Page]:
        """Page on-call staff for an emergency ticket (see :func:`page_for_emergency`)."""
        return page_for_emergency(
            session=session,
            ticket=ticket,
            now=now,
            transport=self.transport,
            address=address,
            caller=caller,
            description=description,
        )

    def reply_by_sms(
        self, *, session: Session, from_number: str, body: str, now: datetime
    ) -> str | None:
        """An "ACK" texted by on-call staff (see :func:`handle_page_reply`)."""
        return handle_page_reply(session=session, from_number=from_number, body=body, now=now)

    def answer_call(
        self, *, session: Session, page_id: int, callee: str | None, digits: str, now: datetime
    ) -> str:
        """The TwiML for a key pressed on a page call: 1 acknowledges, else the page again.

        Args:
            session: Database session; the caller commits.
            page_id: The page the call belongs to (from the ``<Gather>`` URL).
            callee: The number the call went to (Twilio's ``To``).
            digits: What was pressed.
            now: The current instant.
        """
        page = session.get(Page, page_id) if page_id > 0 else None
        ticket = session.get(Ticket, page.ticket_id) if page is not None else None
        if page is None or ticket is None:
            return _say_and_hang_up("This page is no longer active. Goodbye.")
        if callee is not None and callee != page.phone:
            # A page URL replayed from another call: do not let it acknowledge.
            return _say_and_hang_up("This page is no longer active. Goodbye.")
        if digits == "1":
            if paging_state(session=session, ticket=ticket) == "acked":
                return _say_and_hang_up(
                    f"Emergency {ticket.id} was already acknowledged. Thank you. Goodbye."
                )
            acknowledge(session=session, ticket=ticket, phone=page.phone, now=now, via="voice")
            return _say_and_hang_up(
                f"Acknowledged. Emergency {ticket.id} is yours. The details are in your text "
                "messages. Goodbye."
            )
        details = emergency_details(session=session, ticket=ticket)
        return page_twiml(
            speech=page_speech(ticket, details, self.transport.district_name),
            ack_url=self.transport.ack_url(page.id),
        )
