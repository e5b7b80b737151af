"""Transfers, the whisper to the CSR, voicemail and its transcription, over HTTP."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import ContactLog, Conversation, Ticket
from accounts.services.tickets import open_ticket
from tests.channels.conftest import UNKNOWN, Gateway, said
from tests.channels.voice.calls import THANKSGIVING_EVENING, english_menu, gateway_calendar


def test_after_hours_handoff_takes_voicemail_and_transcription_makes_a_ticket(
    twilio_gateway: Gateway,
) -> None:
    twilio_gateway.clock.set(THANKSGIVING_EVENING)
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "2" * 32)
    call.press("0")
    assert twilio_gateway.rasa.received[-1]["message"] == "/human_agent"
    for _ in range(3):
        root = call.silence()
    record = root.find("Record")
    assert record is not None and record.attrib["transcribe"] == "true"
    root = call.post(
        record.attrib["action"],
        RecordingUrl="https://api.twilio.com/rec/RE1",
        RecordingSid="RE" + "1" * 32,
        RecordingDuration="17",
    )
    assert [c.tag for c in root] == ["Say", "Hangup"]
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.callback_number == UNKNOWN
        assert ticket.attachments[0]["url"] == "https://api.twilio.com/rec/RE1"
        assert ticket.channel == "voice"
    response = twilio_gateway.twilio.post(
        record.attrib["transcribeCallback"],
        call.params(
            RecordingSid="RE" + "1" * 32,
            TranscriptionStatus="completed",
            TranscriptionText="Hi, my water is brown since this morning, call me back.",
        ),
    )
    assert response.status_code == 204
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "water is brown" in ticket.summary
        assert (
            session.scalars(select(ContactLog).where(ContactLog.kind == "transcription"))
            .one()
            .ticket_id
            == ticket.id
        )


def test_handoff_payload_dials_with_whisper_of_the_summary(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    with twilio_gateway.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        ticket = open_ticket(
            session=session,
            calendar=gateway_calendar(twilio_gateway),
            intent="billing_dispute",
            channel="voice",
            summary="Customer disputes a $300 bill.",
            now=twilio_gateway.clock.now(),
            conversation=conversation,
            hand_off=False,
        )
        session.commit()
        ticket_id = ticket.id
    twilio_gateway.rasa.responder = lambda p: [
        {"text": "Let me get someone for you."},
        {"custom": {"type": "handoff", "ticket_id": ticket_id, "summary": "dispute"}},
    ]
    root = call.say("this bill is wrong")
    dial = root.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None
    whisper = call.post(number.attrib["url"])
    assert f"Ticket {ticket_id}" in said(whisper)[0]
    assert "disputes a $300 bill" in said(whisper)[0]
