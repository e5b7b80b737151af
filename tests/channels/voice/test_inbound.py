"""Reading a voice webhook's fields: caps, missing fields, garbage."""

from __future__ import annotations

from starlette.datastructures import FormData

from channels.signature import TwilioRequest
from channels.voice import inbound
from tests.channels.conftest import DANA, Call, Gateway, parse_twiml, said
from tests.channels.voice.calls import english_menu

TURN_URL = "https://water.example.org/twilio/voice/turn"


def _request(url: str = TURN_URL, **form: str) -> TwilioRequest:
    return TwilioRequest(url=url, form=form, raw=FormData(list(form.items())))


def test_keys_and_speech_are_cleaned_and_capped() -> None:
    assert inbound.digits(_request(Digits=" 1a2*#x ")) == "12*#"
    assert inbound.digits(_request(Digits="1" * 50)) == "1" * inbound.MAX_DIGITS
    assert inbound.digits(_request()) == ""
    assert inbound.speech(_request(SpeechResult="y" * 900)) == "y" * inbound.MAX_SPEECH_CHARS


def test_confidence_defaults_to_sure_when_missing_or_unreadable() -> None:
    assert inbound.confidence(_request(Confidence="0.12")) == 0.12
    assert inbound.confidence(_request(Confidence="high")) == 1.0
    assert inbound.confidence(_request()) == 1.0


def test_caller_in_e164_or_anonymous() -> None:
    assert inbound.caller(_request(From="(530) 555-0101")) == DANA
    assert inbound.caller(_request(Caller="+15305550101")) == DANA
    assert inbound.caller(_request(From="anonymous")) == "anonymous"
    message = inbound.message(
        _request(From="anonymous"), text_value="", kind="no_input", key="k", language="es-MX"
    )
    assert (message.channel, message.sender, message.language) == ("voice", "anonymous", None)


def test_query_of_the_url_twilio_called() -> None:
    request = _request("https://water.example.org/twilio/voice/dial?n=4&ticket=12&ticket=13")
    assert inbound.query(request) == {"n": "4", "ticket": "12"}


def test_only_a_bare_language_request_switches_mid_call() -> None:
    assert inbound.language_request("Español, por favor") == "es"
    assert inbound.language_request("in Spanish please") == "es"
    assert inbound.language_request("English please") == "en"
    assert inbound.language_request("inglés") == "en"
    assert inbound.language_request("my bill in spanish is wrong") is None
    assert inbound.mentions_spanish("quiero hablar en Español")
    assert not inbound.mentions_spanish("what is my balance")


def test_missing_fields_and_garbage_input_get_defined_answers(
    twilio_gateway: Gateway,
) -> None:
    response = twilio_gateway.twilio.post("/twilio/voice", {"From": DANA})
    assert response.status_code == 200
    assert [c.tag for c in parse_twiml(response.text)] == ["Hangup"]
    call = english_menu(twilio_gateway)
    calls = len(twilio_gateway.rasa.received)
    root = call.post(call.gather().attrib["action"], Digits="abc", SpeechResult="")
    assert said(root)[0] == "Sorry, I did not hear anything."  # nothing usable: silence
    root = call.post(call.gather().attrib["action"], SpeechResult="x" * 5000, Confidence="high")
    assert root.find("Gather") is not None
    assert len(twilio_gateway.rasa.received[-1]["message"]) <= 500
    assert len(twilio_gateway.rasa.received) == calls + 1
    anonymous = Call(twilio_gateway, caller="anonymous", call_sid="CA" + "9" * 32)
    root = anonymous.start()
    assert root.find("Gather") is not None
