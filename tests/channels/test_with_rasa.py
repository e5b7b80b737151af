"""The channels against the real Rasa server and action server (``-m rasa``).

Whole conversations for each intent family on SMS and on voice, plus the
Rasa-down paths with the real Rasa process stopped or frozen. The assistant's
exact wording belongs to the dialogue, so the checks are on facts (the
persona's balance, a ``<Pay>`` for the amount due, a ticket) and on TwiML.
"""

from __future__ import annotations

import itertools
from xml.etree import ElementTree

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import ContactLog, Conversation, Ticket
from accounts.settings import DEMO_TWILIO_AUTH_TOKEN
from tests.channels.conftest import DANA, messages, parse_twiml, said
from tests.utils.live_server import LiveServer
from tests.utils.rasa import RasaStack
from tests.utils.twilio_signing import TwilioWebhookClient

pytestmark = pytest.mark.rasa

_ids = itertools.count(1)


class Phone:
    """A customer's phone: texts and calls the live gateway as Twilio would."""

    def __init__(self, server: LiveServer, number: str = DANA) -> None:
        self.twilio = TwilioWebhookClient(server.url, server.url, DEMO_TWILIO_AUTH_TOKEN)
        self.number = number
        self.call_sid = f"CA{next(_ids):032d}"
        self.root: ElementTree.Element | None = None

    def text(self, body: str) -> list[str]:
        response = self.twilio.post(
            "/twilio/sms",
            {
                "MessageSid": f"SM{next(_ids):032d}",
                "From": self.number,
                "To": "+15305550100",
                "Body": body,
                "NumMedia": "0",
            },
        )
        assert response.status_code == 200, response.text
        return messages(response.text)

    def _call(self, url: str, **extra: str) -> ElementTree.Element:
        params = {
            "CallSid": self.call_sid,
            "From": self.number,
            "To": "+15305550100",
            "CallStatus": "in-progress",
            **extra,
        }
        response = self.twilio.post(url, params)
        assert response.status_code == 200, response.text
        self.root = parse_twiml(response.text)
        return self.root

    def dial(self) -> ElementTree.Element:
        self._call("/twilio/voice", CallStatus="ringing")
        return self.answer()  # no language choice: English menu

    def answer(self, *, digits: str = "", speech: str = "") -> ElementTree.Element:
        assert self.root is not None
        gather = self.root.find("Gather")
        assert gather is not None, ElementTree.tostring(self.root).decode()
        extra = {"Digits": digits} if digits else {}
        if speech:
            extra = {"SpeechResult": speech, "Confidence": "0.93"}
        return self._call(gather.attrib["action"], **extra)


def _verify_sms(phone: Phone, replies: list[str], goal: str, turns: int = 3) -> list[str]:
    """Answer verification questions with Dana's ZIP until ``goal`` shows up."""
    seen = list(replies)
    for _ in range(turns):
        if any(goal in r for r in seen):
            return seen
        seen += phone.text("95616")
    return seen


def test_sms_balance_is_given_after_verification(
    gateway_with_rasa: LiveServer, seeded: Session
) -> None:
    phone = Phone(gateway_with_rasa)
    replies = _verify_sms(phone, phone.text("What is my balance?"), "84.20")
    assert any("84.20" in r for r in replies), replies
    conversation = seeded.scalars(
        select(Conversation).where(Conversation.external_id == DANA)
    ).one()
    log = seeded.scalars(
        select(ContactLog).where(ContactLog.conversation_id == conversation.id)
    ).all()
    assert {e.direction for e in log} >= {"inbound", "outbound"}


def test_sms_payment_gives_a_link_not_a_card_prompt(
    gateway_with_rasa: LiveServer, seeded: Session
) -> None:
    phone = Phone(gateway_with_rasa)
    replies = _verify_sms(phone, phone.text("I want to pay my bill"), "https://")
    assert any("https://" in r for r in replies), replies


def test_sms_outage_question(gateway_with_rasa: LiveServer, seeded: Session) -> None:
    replies = Phone(gateway_with_rasa).text("Is there a water outage on Oak Street?")
    assert replies and all(len(r) <= 1600 for r in replies)


def test_sms_person_opens_a_ticket(gateway_with_rasa: LiveServer, seeded: Session) -> None:
    phone = Phone(gateway_with_rasa)
    replies = phone.text("I want to talk to a real person please")
    assert replies
    seeded.expire_all()
    assert seeded.scalars(select(Ticket)).all(), replies


def test_voice_balance_and_pay(gateway_with_rasa: LiveServer, seeded: Session) -> None:
    phone = Phone(gateway_with_rasa)
    phone.dial()
    root = phone.answer(digits="1")
    spoken = said(root)
    for _ in range(3):
        if any("84" in s for s in spoken) or root.find("Gather") is None:
            break
        root = phone.answer(digits="95616")
        spoken += said(root)
    assert any("84" in s for s in spoken), spoken
    root = phone.answer(speech="I want to pay my bill")
    for _ in range(3):
        if root.find("Pay") is not None or root.find("Gather") is None:
            break
        root = phone.answer(digits="95616")
    pay = root.find("Pay")
    assert pay is not None, ElementTree.tostring(root).decode()
    assert pay.attrib["chargeAmount"] == "84.20"


def test_voice_goodbye_hangs_up(gateway_with_rasa: LiveServer, seeded: Session) -> None:
    phone = Phone(gateway_with_rasa)
    phone.dial()
    root = phone.answer(speech="that's all, goodbye")
    assert root.find("Hangup") is not None, ElementTree.tostring(root).decode()


def test_rasa_stopped_sms_and_voice_degrade(
    gateway_with_rasa: LiveServer, rasa_stack: RasaStack, seeded: Session
) -> None:
    rasa_stack.stop_rasa()
    try:
        phone = Phone(gateway_with_rasa)
        replies = phone.text("My meter box is flooded")
        assert replies and "follow up" in replies[0]
        phone.dial()
        root = phone.answer(speech="what is my balance")
        assert root.find("Dial") is not None or root.find("Enqueue") is not None
        seeded.expire_all()
        summaries = [t.summary for t in seeded.scalars(select(Ticket))]
        assert any("meter box is flooded" in s for s in summaries)
    finally:
        rasa_stack.start_rasa()


def test_rasa_frozen_is_answered_within_the_bound(
    gateway_with_rasa: LiveServer, rasa_stack: RasaStack, seeded: Session
) -> None:
    rasa_stack.pause_rasa()
    try:
        # A frozen Rasa never answers: the apology proves the channel's bound fired.
        replies = Phone(gateway_with_rasa).text("hello")
        assert replies and "follow up" in replies[0]
    finally:
        rasa_stack.resume_rasa()
