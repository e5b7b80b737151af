"""``assistant simulate sms|call`` against a live gateway, with typed input scripted."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Conversation, Payment
from channels.cli import Simulator
from tests.channels.conftest import AUTH_TOKEN, DANA, PUBLIC_BASE, Gateway


def simulator(twilio_gateway: Gateway, lines: list[str]) -> tuple[Simulator, list[str]]:
    answers = iter(lines)
    shown: list[str] = []

    def ask(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    sim = Simulator(
        gateway_url=twilio_gateway.server.url,
        public_base_url=PUBLIC_BASE,
        auth_token=AUTH_TOKEN,
        caller=DANA,
        district_number="+15305550100",
        ask=ask,
        show=shown.append,
    )
    return sim, shown


def test_sms_chat(twilio_gateway: Gateway) -> None:
    sim, shown = simulator(twilio_gateway, ["what is my balance", "2", "/quit"])
    with sim:
        assert sim.sms_chat() == 0
    assert "district> Your balance is $84.20, due Dec 6." in shown
    assert twilio_gateway.rasa.received[-1]["message"] == "/help"  # "2" chose "Something else"


def test_call_with_test_mode_payment(twilio_gateway: Gateway) -> None:
    sim, shown = simulator(twilio_gateway, ["", "2", "y", "ok bye"])
    with sim:
        assert sim.call() == 0
    assert any("Valley Springs Water District" in line for line in shown)
    assert any("<Pay> test mode: $84.20" in line for line in shown)
    assert any("confirmation number is" in line for line in shown)
    assert shown[-1] == "[call ended]"
    with twilio_gateway.session() as session:
        payment = session.scalars(select(Payment).where(Payment.source_channel == "voice")).one()
        assert payment.confirmation.startswith("SIM")
        conversation = session.scalars(
            select(Conversation).where(Conversation.channel == "voice")
        ).one()
        assert conversation.status == "closed"


def test_wrong_token_is_refused(twilio_gateway: Gateway) -> None:
    sim, shown = simulator(twilio_gateway, ["hello"])
    sim.auth_token = "not-the-token"
    with sim:
        assert sim.call() == 1
    assert shown[-1] == "[gateway answered HTTP 403]"
