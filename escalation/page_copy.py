"""What an emergency page says: the facts, the SMS text, the spoken call and its TwiML."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from accounts.models import Account, ServiceRequest, Ticket

_SMS_LIMIT = 600


@dataclass(frozen=True, slots=True)
class EmergencyDetails:
    """What the on-call person needs: where, who called, what is happening."""

    address: str
    caller: str
    description: str
    kind: str


def emergency_details(
    *,
    session: Session,
    ticket: Ticket,
    address: str = "",
    caller: str = "",
    description: str = "",
) -> EmergencyDetails:
    """The page's facts: explicit values first, then the ticket's service request.

    The address falls back to the latest emergency service request of the
    ticket's conversation, then the account's service address; the caller to
    the ticket's callback number or the customer's phone.
    """
    request: ServiceRequest | None = None
    if ticket.conversation_id is not None:
        request = session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.conversation_id == ticket.conversation_id)
            .order_by(ServiceRequest.id.desc())
            .limit(1)
        ).first()
    account = session.get(Account, ticket.account_id) if ticket.account_id else None
    where = (
        address
        or (request.address if request else "")
        or (account.service_address if account else "")
    )
    who = caller or ticket.callback_number or ticket.customer_address
    what = description or (request.description if request else "") or ticket.summary
    kind = ((request.type if request else "") or ticket.reason or ticket.intent).replace("_", " ")
    if "emergenc" in kind:
        kind = "emergency"
    return EmergencyDetails(
        address=where.strip() or "address not given",
        caller=who.strip() or "unknown",
        description=" ".join(what.split()),
        kind=kind,
    )


def page_sms_text(ticket: Ticket, details: EmergencyDetails) -> str:
    """The SMS page: ticket, kind, address, caller, description, "Reply ACK"."""
    label = f" ({details.kind})" if details.kind != "emergency" else ""
    head = f"EMERGENCY #{ticket.id}{label}: {details.address}. Caller {details.caller}."
    tail = f" Reply ACK {ticket.id} to acknowledge."
    room = _SMS_LIMIT - len(head) - len(tail) - 3
    description = details.description
    if len(description) > room:
        # ASCII dots: one character outside GSM-7 would make the page UCS-2 (70/segment).
        description = description[: max(room - 3, 0)].rstrip() + "..."
    return f'{head} "{description}"{tail}' if description else head + tail


def _spoken_number(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = (digits[:3], digits[3:6], digits[6:])
        return ", ".join(" ".join(group) for group in groups)
    return " ".join(digits) if digits else number


def page_speech(ticket: Ticket, details: EmergencyDetails, district_name: str) -> str:
    """What the page call says before asking for 1."""
    return (
        f"This is the {district_name} emergency page. Emergency number {ticket.id}: "
        f"{details.kind} at {details.address}. Caller's number: {_spoken_number(details.caller)}. "
        f"Report: {details.description}"
    )


def page_twiml(*, speech: str, ack_url: str) -> str:
    """TwiML for the page call: say it twice inside a one-digit ``<Gather>``."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=ack_url, method="POST", timeout=8, input="dtmf")
    for _ in range(2):
        gather.say(speech, voice="Polly.Joanna", language="en-US")
        gather.say("Press 1 to acknowledge.", voice="Polly.Joanna", language="en-US")
    response.append(gather)
    response.say(
        "No acknowledgment received. You will be paged again.",
        voice="Polly.Joanna",
        language="en-US",
    )
    response.hangup()
    return str(response)
