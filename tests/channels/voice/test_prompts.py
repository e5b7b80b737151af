"""The assistant's replies as a call hears them: hang-up, and Rasa down."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Ticket
from tests.channels.conftest import Gateway, said
from tests.channels.voice.calls import conversation_of, english_menu


def test_goodbye_hangs_up_and_status_callback_closes_with_duration(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.say("ok bye")
    assert [c.tag for c in root] == ["Say", "Hangup"]
    response = twilio_gateway.twilio.post(
        "/twilio/voice/status", call.params(CallStatus="completed", CallDuration="93")
    )
    assert response.status_code == 204
    conversation = conversation_of(twilio_gateway, call)
    assert conversation.status == "closed"
    assert conversation.duration_seconds == 93
    assert conversation.outcome == "completed"


def test_rasa_down_on_a_call_apologises_and_transfers(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    twilio_gateway.rasa.status = 503
    root = call.say("what is my balance")
    assert said(root)[0] == "Sorry, our automated system is not available right now."
    dial = root.find("Dial")
    assert dial is not None
    with twilio_gateway.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert "what is my balance" in ticket.summary
    number = dial.find("Number")
    assert number is not None and f"ticket={ticket.id}" in number.attrib["url"]
