"""Twilio status callbacks: outbound SMS delivery and the end of a call.

* ``POST /twilio/sms/status`` — ``MessageStatus`` of a message the gateway
  sent (``queued`` → ``sent`` → ``delivered``/``undelivered``/``failed``)
  updates its outbox row; error 21610 records an opt-out.
* ``POST /twilio/voice/status`` — the call's status callback: a finished call
  closes its conversation with the duration Twilio reports.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import Response

from accounts.db import SessionDep
from accounts.services.contacts import already_recorded, record_contact
from accounts.services.conversations import close_conversation, find_open_conversation
from channels.deps import ChannelServicesDep
from channels.outbound_sms import apply_status_callback
from channels.signature import TwilioRequestDep

logger = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"])

_CALL_OVER = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@router.post("/twilio/sms/status", status_code=204, response_class=Response)
def sms_status(tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep) -> Response:
    """Delivery status of an outbound message."""
    sid = tw.get("MessageSid") or tw.get("SmsSid")
    status = tw.get("MessageStatus") or tw.get("SmsStatus")
    if sid and status:
        row = apply_status_callback(
            session=session,
            message_sid=sid[:64],
            status=status[:20],
            error_code=tw.get("ErrorCode")[:10],
            now=services.clock.now(),
        )
        if row is None:
            logger.info("sms status for a message that is not ours")
        session.commit()
    return Response(status_code=204)


@router.post("/twilio/voice/status", status_code=204, response_class=Response)
def call_status(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """The call ended: close its conversation with the duration."""
    call_sid = tw.get("CallSid")
    status = tw.get("CallStatus").lower()
    key = f"voice:{call_sid}:end"
    if (
        not call_sid
        or status not in _CALL_OVER
        or already_recorded(session=session, external_id=key)
    ):
        return Response(status_code=204)
    conversation = find_open_conversation(session=session, channel="voice", external_id=call_sid)
    now = services.clock.now()
    try:
        duration = int(tw.get("CallDuration") or "0")
    except ValueError:
        duration = 0
    record_contact(
        session=session,
        channel="voice",
        direction="internal",
        kind="call_end",
        body=f"Call ended ({status}, {duration} s).",
        at=now,
        conversation=conversation,
        actor="system",
        external_id=key,
        meta={"status": status, "duration": duration},
    )
    if conversation is not None:
        conversation.duration_seconds = duration
        outcome = "completed" if status == "completed" else status
        # A hand-off keeps its ticket open; the call itself is over either way.
        close_conversation(session=session, conversation=conversation, now=now, outcome=outcome)
    session.commit()
    return Response(status_code=204)
