"""TwiML building blocks of the phone line: the prompt, the hand-off route."""

from __future__ import annotations

from accounts.business_calendar import BusinessCalendar
from accounts.services.after_hours import after_hours_message
from channels.voice.render import prompt
from tests.channels.conftest import UNKNOWN, Gateway, parse_twiml, said
from tests.channels.voice.calls import THANKSGIVING_EVENING, english_menu


def test_prompt_gathers_and_comes_back_on_silence() -> None:
    action = "https://water.example.org/twilio/voice/turn?n=5"
    root = parse_twiml(prompt(["Hola.", "¿Algo más?"], language="es", action=action, num_digits=1))
    assert [c.tag for c in root] == ["Gather", "Redirect"]
    gather = root[0]
    assert gather.attrib["action"] == action and gather.attrib["numDigits"] == "1"
    assert [s.text for s in gather.iter("Say")] == ["Hola.", "¿Algo más?"]
    assert {s.attrib["language"] for s in gather.iter("Say")} == {"es-MX"}
    assert root[1].text == f"{action}&silence=1" and root[1].attrib["method"] == "POST"


def test_after_hours_voicemail_prompt_says_when_someone_calls_back(
    twilio_gateway: Gateway, calendar: BusinessCalendar
) -> None:
    twilio_gateway.clock.set(THANKSGIVING_EVENING)
    call = english_menu(twilio_gateway, caller=UNKNOWN, sid="CA" + "7" * 32)
    for _ in range(3):
        root = call.silence()
    assert root.find("Record") is not None
    promise = after_hours_message(calendar, THANKSGIVING_EVENING, "en", emergency=False)
    spoken = said(root)
    assert promise in spoken and "Thanksgiving" in promise
    assert spoken[spoken.index(promise) + 1].startswith("Please leave your name")
