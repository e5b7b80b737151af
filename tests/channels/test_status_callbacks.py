"""Status callbacks over HTTP: outbound SMS delivery and call completion."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import ContactLog, OutboundMessage
from accounts.services.consent import is_opted_out
from tests.channels.conftest import DANA, Gateway


def _outbox_row(twilio_gateway: Gateway, sid: str) -> int:
    with twilio_gateway.session() as session:
        now = twilio_gateway.clock.now()
        row = OutboundMessage(
            channel="sms",
            purpose="reply",
            to_address=DANA,
            body="Hi",
            status="queued",
            provider_id=sid,
            attempts=1,
            next_attempt_at=now,
            created_at=now,
            headers={},
        )
        session.add(row)
        session.commit()
        return row.id


def test_sms_status_callback_updates_the_outbox(twilio_gateway: Gateway) -> None:
    row_id = _outbox_row(twilio_gateway, "SM" + "5" * 32)
    for status in ("sent", "delivered"):
        response = twilio_gateway.twilio.post(
            "/twilio/sms/status",
            {"MessageSid": "SM" + "5" * 32, "MessageStatus": status, "To": DANA},
        )
        assert response.status_code == 204
    with twilio_gateway.session() as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None and row.status == "delivered"


def test_undelivered_with_opt_out_code_records_the_opt_out(twilio_gateway: Gateway) -> None:
    _outbox_row(twilio_gateway, "SM" + "6" * 32)
    response = twilio_gateway.twilio.post(
        "/twilio/sms/status",
        {"MessageSid": "SM" + "6" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610"},
    )
    assert response.status_code == 204
    with twilio_gateway.session() as session:
        assert is_opted_out(session=session, address=DANA, channel="sms")


def test_status_callbacks_need_a_signature(twilio_gateway: Gateway) -> None:
    params = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered"}
    assert twilio_gateway.twilio.post("/twilio/sms/status", params, signature="").status_code == 403
    call = {"CallSid": "CA" + "7" * 32, "CallStatus": "completed", "CallDuration": "5"}
    assert (
        twilio_gateway.twilio.post("/twilio/voice/status", call, signature="bad").status_code == 403
    )


def test_call_status_for_an_unknown_call_is_logged_once(twilio_gateway: Gateway) -> None:
    call = {"CallSid": "CA" + "8" * 32, "CallStatus": "no-answer", "CallDuration": "0"}
    for _ in range(2):
        assert twilio_gateway.twilio.post("/twilio/voice/status", call).status_code == 204
    with twilio_gateway.session() as session:
        ends = session.scalars(select(ContactLog).where(ContactLog.kind == "call_end")).all()
        assert len(ends) == 1
