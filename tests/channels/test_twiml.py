"""Rendering replies as TwiML: verbs and attributes checked on the parsed XML."""

from __future__ import annotations

from xml.etree import ElementTree

from channels.base import BotReply, Button, replies_from_rasa
from channels.twiml import (
    HandoffRoute,
    PaySettings,
    VoiceUrls,
    render_sms,
    render_voice,
    sms_bodies,
)

URLS = VoiceUrls(
    gather="https://x.example/twilio/voice/turn?n=2",
    pay="https://x.example/twilio/voice/pay?n=2",
    dial_result="https://x.example/twilio/voice/dial?n=2",
    recorded="https://x.example/twilio/voice/recorded?n=2",
    transcription="https://x.example/twilio/voice/transcription",
    whisper="https://x.example/twilio/voice/whisper",
)
PAY = PaySettings(connector="district_stripe")
OPEN = HandoffRoute(office_open=True, csr_number="+15305550190")
CLOSED = HandoffRoute(office_open=False)


def _root(twiml: str) -> ElementTree.Element:
    root = ElementTree.fromstring(twiml)
    assert root.tag == "Response"
    return root


def test_rasa_messages_become_replies() -> None:
    replies = replies_from_rasa(
        [
            {"recipient_id": "k", "text": "Hi"},
            {"recipient_id": "k", "text": "Pick", "buttons": [{"title": "A", "payload": "/a"}]},
            {"recipient_id": "k", "custom": {"type": "hangup"}},
            {"recipient_id": "k", "image": "https://x/img.png"},  # dropped: no text
        ]
    )
    assert [r.text for r in replies] == ["Hi", "Pick", ""]
    assert replies[1].buttons == (Button("A", "/a"),)
    assert replies[2].custom_type == "hangup"


def test_sms_messages_with_numbered_buttons() -> None:
    replies = [
        BotReply("Your balance is $84.20."),
        BotReply("What next?", (Button("Pay now", "/make_payment"), Button("Other", "/help"))),
    ]
    root = _root(render_sms(sms_bodies(replies)))
    bodies = [m.text for m in root.findall("Message")]
    assert bodies == [
        "Your balance is $84.20.",
        "What next?\n1) Pay now\n2) Other\nReply with a number.",
    ]
    assert _root(render_sms([])).findall("*") == []


def test_long_sms_reply_is_split_under_the_target() -> None:
    reply = BotReply("The crew is repairing the main on Oak Street. " * 20)
    bodies = sms_bodies([reply])
    assert len(bodies) >= 3 and all(len(b) <= 320 for b in bodies)


def test_voice_text_is_spoken_inside_a_speech_and_dtmf_gather() -> None:
    root = _root(
        render_voice(
            [BotReply("Your balance is $84.20.")], language="en", urls=URLS, pay=PAY, handoff=OPEN
        )
    )
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib["input"] == "speech dtmf"
    assert gather.attrib["action"] == URLS.gather
    assert gather.attrib["language"] == "en-US"
    assert "balance" in gather.attrib["hints"]
    assert gather.attrib["actionOnEmptyResult"] == "true"
    assert "numDigits" not in gather.attrib  # a number may be typed here
    say = gather.find("Say")
    assert say is not None and say.text == "Your balance is $84.20."
    assert say.attrib["voice"] == "Polly.Joanna" and say.attrib["language"] == "en-US"
    redirect = root.find("Redirect")
    assert redirect is not None and "silence=1" in (redirect.text or "")


def test_spanish_voice_and_recognizer_and_keypad_buttons() -> None:
    reply = BotReply("¿Qué desea?", (Button("Pagar", "/make_payment"), Button("Otro", "/help")))
    root = _root(render_voice([reply], language="es", urls=URLS, pay=PAY, handoff=OPEN))
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib["language"] == "es-MX"
    assert gather.attrib["numDigits"] == "1"
    assert "saldo" in gather.attrib["hints"]
    says = gather.findall("Say")
    assert [s.text for s in says] == [
        "¿Qué desea?",
        "Para Pagar, oprima 1.",
        "Para Otro, oprima 2.",
    ]
    assert {s.attrib["voice"] for s in says} == {"Polly.Mia"}
    assert {s.attrib["language"] for s in says} == {"es-MX"}


def test_pay_payload_becomes_pay_verb() -> None:
    replies = [
        BotReply("You owe $84.20."),
        BotReply(custom={"type": "pay", "amount": "84.2", "account": "1000417"}),
    ]
    root = _root(render_voice(replies, language="en", urls=URLS, pay=PAY, handoff=OPEN))
    pay = root.find("Pay")
    assert pay is not None
    assert pay.attrib["paymentConnector"] == "district_stripe"
    assert pay.attrib["chargeAmount"] == "84.20"
    assert pay.attrib["input"] == "dtmf"
    assert pay.attrib["action"].startswith(URLS.pay)
    assert "amount=84.20" in pay.attrib["action"] and "account=1000417" in pay.attrib["action"]
    assert root.find("Gather") is None
    assert [s.text for s in root.findall("Say")] == ["You owe $84.20."]


def test_pay_with_a_bad_amount_does_not_start_pay() -> None:
    replies = [BotReply(custom={"type": "pay", "amount": "-3"})]
    root = _root(render_voice(replies, language="en", urls=URLS, pay=PAY, handoff=OPEN))
    assert root.find("Pay") is None
    assert root.find("Gather") is not None


def test_handoff_in_office_hours_dials_with_whisper() -> None:
    replies = [
        BotReply("Connecting you.", custom=None),
        BotReply(custom={"type": "handoff", "ticket_id": 12, "summary": "s"}),
    ]
    root = _root(render_voice(replies, language="en", urls=URLS, pay=PAY, handoff=OPEN))
    dial = root.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None and number.text == "+15305550190"
    assert number.attrib["url"] == URLS.whisper + "?ticket=12"
    assert "ticket=12" in dial.attrib["action"]


def test_handoff_without_csr_line_enqueues() -> None:
    route = HandoffRoute(office_open=True, csr_number=None, queue_name="csr")
    replies = [BotReply(custom={"type": "handoff", "ticket_id": 3})]
    root = _root(render_voice(replies, language="en", urls=URLS, pay=PAY, handoff=route))
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "csr"


def test_handoff_after_hours_records_voicemail_with_transcription() -> None:
    replies = [BotReply(custom={"type": "handoff", "ticket_id": 7})]
    root = _root(render_voice(replies, language="es", urls=URLS, pay=PAY, handoff=CLOSED))
    record = root.find("Record")
    assert record is not None
    assert record.attrib["transcribe"] == "true"
    assert record.attrib["transcribeCallback"] == URLS.transcription + "?ticket=7"
    assert "ticket=7" in record.attrib["action"]
    assert root.find("Dial") is None and root.find("Enqueue") is None
    assert root.findall("Say")[0].attrib["voice"] == "Polly.Mia"


def test_hangup_payload_ends_the_call() -> None:
    replies = [BotReply("Goodbye!"), BotReply(custom={"type": "hangup"})]
    root = _root(render_voice(replies, language="en", urls=URLS, pay=PAY, handoff=OPEN))
    assert [child.tag for child in root] == ["Say", "Hangup"]


def test_live_transfer_flag_from_the_handoff_api_wins() -> None:
    declined = [BotReply(custom={"type": "handoff", "ticket_id": 5, "live_transfer": False})]
    root = _root(render_voice(declined, language="en", urls=URLS, pay=PAY, handoff=OPEN))
    assert root.find("Dial") is None and root.find("Record") is not None
    prompt = root.findall("Say")[0].text or ""
    assert "closed" not in prompt and "leave your name" in prompt  # the office is open
    accepted = [BotReply(custom={"type": "handoff", "ticket_id": 5, "live_transfer": True})]
    root = _root(render_voice(accepted, language="en", urls=URLS, pay=PAY, handoff=CLOSED))
    assert root.find("Enqueue") is not None  # no CSR number configured in CLOSED


def test_pay_description_from_the_payload() -> None:
    replies = [BotReply(custom={"type": "pay", "amount": "10", "description": "Pago de agua"})]
    root = _root(render_voice(replies, language="es", urls=URLS, pay=PAY, handoff=OPEN))
    pay = root.find("Pay")
    assert pay is not None
    assert pay.attrib["description"] == "Pago de agua" and pay.attrib["language"] == "es-US"
    assert "account" not in pay.attrib["action"]
