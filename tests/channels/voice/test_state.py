"""A call between requests: its state on the conversation, request keys, redelivery."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from accounts.models import Conversation
from channels.signature import TwilioRequest
from channels.voice.state import load_state, next_turn, replay, save_state, turn_key
from tests.channels.conftest import Gateway, parse_twiml
from tests.channels.voice.calls import english_menu


def _request(url: str, **form: str) -> TwilioRequest:
    return TwilioRequest(url=url, form=form, raw=FormData(list(form.items())))


def test_state_lives_on_the_conversation_meta_beside_other_channels() -> None:
    conversation = Conversation(meta={"rasa_session": True})
    state = load_state(conversation)
    assert state == {}
    state["mode"] = "menu"
    assert "voice" not in conversation.meta  # a copy until saved
    save_state(conversation, state)
    assert conversation.meta == {"rasa_session": True, "voice": {"mode": "menu"}}
    assert [next_turn(conversation), next_turn(conversation)] == [1, 2]
    assert load_state(conversation) == {"mode": "menu", "n": 2}


def test_turn_key_names_the_call_the_step_the_turn_and_a_silence() -> None:
    base = "https://water.example.org/twilio/voice/turn"
    assert turn_key(_request(f"{base}?n=3", CallSid="CA1"), "turn") == "voice:CA1:turn:3"
    assert turn_key(_request(f"{base}?n=3&silence=1", CallSid="CA1"), "turn") == (
        "voice:CA1:turn:3:s"
    )
    assert turn_key(_request(base, CallSid="CA1"), "pay") == "voice:CA1:pay:0"
    assert turn_key(_request(f"{base}?n=x", CallSid="CA1"), "turn") == "voice:CA1:turn:0"
    assert turn_key(_request(f"{base}?n={'9' * 30}", CallSid="CA1"), "turn") == (
        f"voice:CA1:turn:{'9' * 9}"
    )


def test_redelivery_while_the_first_is_in_flight_asks_again(session: Session) -> None:
    root = parse_twiml(replay(session, "voice:CA1:turn:4", None))
    gather = root.find("Gather")
    assert gather is not None and gather.attrib["action"] == "/twilio/voice/turn"
    assert list(gather) == []  # nothing said: the caller is asked again
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.text == "/twilio/voice/turn?silence=1"


def test_replayed_turn_gets_the_same_answer_once(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    action = call.gather().attrib["action"]
    first = twilio_gateway.twilio.post(action, call.params(Digits="3"))
    calls = len(twilio_gateway.rasa.received)
    second = twilio_gateway.twilio.post(action, call.params(Digits="3"))
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    assert len(twilio_gateway.rasa.received) == calls
