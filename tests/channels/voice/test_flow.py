"""A call from the greeting on: keypad and speech, re-prompts, language, the assistant."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Account
from tests.channels.conftest import MARIA, UNKNOWN, Call, Gateway, said
from tests.channels.voice.calls import call_log, conversation_of, english_menu


def test_greeting_names_the_district_and_offers_spanish(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway)
    root = call.start()
    gather = call.gather()
    assert gather.attrib["input"] == "speech dtmf"
    assert gather.attrib["numDigits"] == "1"
    assert "/twilio/voice/language?n=1" in gather.attrib["action"]
    assert gather.attrib["action"].startswith("https://water.example.org/")
    says = gather.findall("Say")
    assert says[0].text == "Thank you for calling Valley Springs Water District."
    assert says[1].text == "Para español, oprima 2."
    assert says[1].attrib["language"] == "es-MX" and says[1].attrib["voice"] == "Polly.Mia"
    assert root.find("Redirect") is not None
    conversation = conversation_of(twilio_gateway, call)
    with twilio_gateway.session() as session:
        dana = session.scalars(select(Account).where(Account.number == "1000417")).one()
    assert conversation.account_id == dana.id  # caller-ID lookup


def test_spanish_call_uses_spanish_recognizer_and_voice_throughout(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway, caller=MARIA)
    call.start()
    root = call.press("2")
    gather = call.gather()
    assert gather.attrib["language"] == "es-MX"
    assert "saldo" in gather.attrib["hints"]
    assert {s.attrib["voice"] for s in root.iter("Say")} == {"Polly.Mia"}
    assert "oprima 1" in said(root)[0]
    root = call.say("cuál es mi saldo")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
    assert call.gather().attrib["language"] == "es-MX"
    assert {s.attrib["language"] for s in root.iter("Say")} == {"es-MX"}


def test_low_confidence_reprompts_then_offers_keypad(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    calls = len(twilio_gateway.rasa.received)
    root = call.say("mumble mumble", confidence="0.12")
    assert "did not catch that" in said(root)[0]
    root = call.say("grumble", confidence="0.05")
    assert "use your keypad" in said(root)[0]
    assert "press 1" in said(root)[1]
    assert call.gather().attrib["numDigits"] == "1"
    assert len(twilio_gateway.rasa.received) == calls
    speech = [e for e in call_log(twilio_gateway, call) if e.kind == "speech"]
    assert [e.body for e in speech] == ["mumble mumble", "grumble"]


def test_silence_reprompts_twice_then_transfers_in_office_hours(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    for _ in range(2):
        root = call.silence()
        assert said(root)[0] == "Sorry, I did not hear anything."
        assert "press 1" in said(root)[1]  # the menu again
    root = call.silence()
    dial = root.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None and number.text == twilio_gateway.settings.twilio.csr_number
    # Nobody answered: voicemail.
    root = call.post(dial.attrib["action"], DialCallStatus="no-answer")
    assert root.find("Record") is not None


def test_digits_when_a_number_is_asked_go_to_the_assistant(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    call.say("I have a question")  # a plain text reply: no buttons
    assert "numDigits" not in call.gather().attrib
    root = call.press("1000417")
    assert twilio_gateway.rasa.received[-1]["message"] == "1000417"
    assert said(root)[0] == "Thanks, I got 7 digits."
    dtmf = [e for e in call_log(twilio_gateway, call) if e.kind == "dtmf"]
    assert dtmf[-1].body == "1000417"


def test_service_submenu_and_invalid_option(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.press("7")
    assert said(root)[0] == "Sorry, that is not one of the options."
    root = call.press("4")
    assert "To start new service, press 1" in said(root)[0]
    call.press("2")
    assert twilio_gateway.rasa.received[-1]["message"] == "/stop_service"


def test_pressing_2_at_the_greeting_makes_the_call_spanish_for_rasa(
    twilio_gateway: Gateway,
) -> None:
    call = Call(twilio_gateway, caller=UNKNOWN, call_sid="CA" + "4" * 32)
    call.start()
    call.press("2")
    assert call.gather().attrib["language"] == "es-MX"
    # Rasa has no session yet: an event would start one without the call's
    # metadata; the first message carries the language instead.
    assert twilio_gateway.rasa.events == []
    call.say("cuál es mi saldo")
    metadata = twilio_gateway.rasa.received[-1]["metadata"]
    assert metadata["language"] == "es" and metadata["channel"] == "voice"


def test_asking_for_spanish_mid_call_sets_the_slot_in_rasa(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "5" * 32)
    call.say("what is my balance")
    calls = len(twilio_gateway.rasa.received)
    root = call.say("Español, por favor")
    assert len(twilio_gateway.rasa.received) == calls  # answered by the gateway
    assert call.gather().attrib["language"] == "es-MX"
    assert any("oprima" in line for line in said(root))
    key = conversation_of(twilio_gateway, call).key
    assert twilio_gateway.rasa.events == [
        (key, "token=t", {"event": "slot", "name": "language", "value": "es"})
    ]
    call.say("cuál es mi saldo")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
    call.say("English please")
    assert twilio_gateway.rasa.events[-1][2]["value"] == "en"
    assert call.gather().attrib["language"] == "en-US"


def test_language_switch_survives_rasa_refusing_the_event(twilio_gateway: Gateway) -> None:
    twilio_gateway.rasa.events_status = 500
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "6" * 32)
    call.say("what is my balance")
    call.say("español")
    assert len(twilio_gateway.rasa.events) == 1  # tried, refused, the call goes on
    assert call.gather().attrib["language"] == "es-MX"
    call.say("cuál es mi saldo")
    assert twilio_gateway.rasa.received[-1]["metadata"]["language"] == "es"
