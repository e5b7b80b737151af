"""Simultaneous webhooks: many writers at once queue on the database; none fails.

On SQLite every gateway transaction begins IMMEDIATE (``accounts.db``) and
waits on the busy timeout, so no in-process lock is needed; this drives the
live gateway with texts and call turns arriving together, as in a storm.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from accounts.models import ContactLog, Conversation
from tests.channels.conftest import Call, Gateway, messages

SENDERS = [f"+1530555{n:04d}" for n in range(200, 212)] + ["+15305550101", "+15305550102"]


def test_simultaneous_texts_and_call_turns_all_succeed(twilio_gateway: Gateway) -> None:
    twilio_gateway.rasa.delay = 0.05  # everyone waits on Rasa at the same time
    calls = [Call(twilio_gateway, caller=SENDERS[i], call_sid=f"CA{i:032d}") for i in range(4)]
    for call in calls:
        call.start()

    def text(index: int) -> tuple[int, str]:
        response = twilio_gateway.twilio.post(
            "/twilio/sms",
            {
                "MessageSid": f"SM{index:032d}",
                "From": SENDERS[index % len(SENDERS)],
                "To": "+15305550100",
                "Body": "what is my balance" if index % 2 else "is there an outage",
                "NumMedia": "0",
            },
        )
        return response.status_code, response.text

    def speak(call: Call) -> list[str]:
        return [line for _ in range(3) for line in _said(call.say("what is my balance"))]

    with ThreadPoolExecutor(max_workers=32) as pool:
        texts = list(pool.map(text, range(40)))
        # A redelivery of the same message arriving at the same time as the first.
        twins = list(pool.map(text, [7] * 6))
        spoken = list(pool.map(speak, calls))

    assert all(status == 200 and messages(body) for status, body in texts)
    assert all(status == 200 for status, _ in twins)
    assert all("Your balance is $84.20, due Dec 6." in lines for lines in spoken)
    with twilio_gateway.session() as session:
        inbound_texts = session.scalar(
            select(func.count())
            .select_from(ContactLog)
            .where(ContactLog.channel == "sms", ContactLog.direction == "inbound")
        )
        assert inbound_texts == 40  # the twins were answered once
        # One conversation per number, however many texts arrived together.
        per_sender = session.execute(
            select(Conversation.external_id, func.count())
            .where(Conversation.channel == "sms")
            .group_by(Conversation.external_id)
        ).all()
        assert len(per_sender) == len(SENDERS) and all(n == 1 for _, n in per_sender)
        turns = session.scalar(
            select(func.count())
            .select_from(ContactLog)
            .where(ContactLog.channel == "voice", ContactLog.kind == "speech")
        )
        assert turns == 12


def _said(root: object) -> list[str]:
    from xml.etree.ElementTree import Element

    assert isinstance(root, Element)
    return [s.text or "" for s in root.iter("Say")]
