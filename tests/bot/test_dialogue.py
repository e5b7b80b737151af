"""The dialogue: Rasa's own checks, and whole conversations on the real stack.

- ``rasa data validate --fail-on-warnings`` on the domain, rules and stories;
- ``rasa test core`` on bot/tests (every intent, the hard paths) with the
  trained model: rules must predict every step;
- conversations through Rasa's REST channel, the real action server and the
  live gateway on a seeded database (``-m rasa``). Messages use Rasa's
  ``/intent{entities}`` form where the test is about the dialogue, not NLU.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import Conversation, ServiceRequest, Ticket
from accounts.services.conversations import get_or_open_conversation
from tests.utils.live_server import LiveServer
from tests.utils.rasa import MODEL, RASA_BIN, RasaStack
from tests.utils.servers import unavailable

ROOT = Path(__file__).resolve().parents[2]
DANA, MARIA = "+15305550101", "+15305550102"


def _rasa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not RASA_BIN.exists():
        unavailable("the Rasa environment .venv-rasa is missing (run `make test`)")
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=cwd, capture_output=True, text=True, timeout=900,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"},
        check=False,
    )


def test_training_data_validates_without_warnings() -> None:
    result = _rasa("data", "validate", "--domain", "bot/domain", "--data", "bot/data",
                   "--fail-on-warnings", cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_test_story_is_predicted(tmp_path: Path) -> None:
    if not MODEL.exists():
        unavailable("no trained model at models/district.tar.gz (run `make test`)")
    result = _rasa("test", "core", "--stories", str(ROOT / "bot" / "tests"), "--model",
                   str(MODEL), "--out", str(tmp_path), "--fail-on-prediction-errors",
                   cwd=tmp_path)
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, report[-4000:] or result.stderr[-3000:]
    assert "None of the test stories failed" in report


# -- whole conversations on the real stack ---------------------------------------------------


class Customer:
    """One conversation, talking to Rasa the way the gateway does."""

    def __init__(self, stack: RasaStack, key: str, metadata: dict[str, Any]) -> None:
        self.stack = stack
        self.key = key
        self.metadata = {"conversation_id": key, **metadata}

    def say(self, text: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": self.key, "message": text, "metadata": self.metadata},
            timeout=60,
        )
        response.raise_for_status()
        replies: list[dict[str, Any]] = response.json()
        return replies


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies if r.get("text"))


def _custom(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["custom"] for r in replies if r.get("custom")]


def _open(session: Session, clock: FixedClock, sender: str, channel: str = "sms") -> str:
    conversation, _ = get_or_open_conversation(
        session=session, channel=channel, external_id=sender, now=clock.now(),
        customer_address=sender,
    )
    session.commit()
    return conversation.key


def _conversation(session: Session, key: str) -> Conversation:
    session.expire_all()
    return session.scalars(select(Conversation).where(Conversation.key == key)).one()


@pytest.fixture
def stack(rasa_stack: RasaStack, seeded: Session, gateway_with_rasa: LiveServer) -> RasaStack:
    return rasa_stack


@pytest.mark.rasa
def test_balance_by_sms_with_verification(
    stack: RasaStack, seeded: Session, clock: FixedClock
) -> None:
    key = _open(seeded, clock, DANA)
    dana = Customer(stack, key, {"channel": "sms", "caller": DANA, "language": "en"})
    asked = _text(dana.say("/check_balance"))
    assert "ZIP code" in asked and "$84.20" not in asked
    answer = _text(dana.say("95616"))
    assert "Your balance is $84.20, due December 6." in answer
    assert _conversation(seeded, key).verification_tier == 1
    assert "Have a good day" in _text(dana.say("/goodbye"))


@pytest.mark.rasa
def test_spanish_voice_payment_after_a_wrong_answer(
    stack: RasaStack, seeded: Session, clock: FixedClock
) -> None:
    key = _open(seeded, clock, MARIA, channel="voice")
    maria = Customer(stack, key, {"channel": "voice", "caller": MARIA, "language": "es"})
    assert "código postal" in _text(maria.say("/make_payment"))
    assert "no coincide" in _text(maria.say("9 5 6 1 6"))
    replies = maria.say("nueve cinco seis uno ocho")
    assert "Puedo tomar su pago de $212.40" in _text(replies)
    assert _custom(replies) == [{"type": "pay", "amount": "212.40", "currency": "usd",
                                 "description": "Pago de factura del Distrito de Agua Valley "
                                 "Springs", "language": "es"}]


@pytest.mark.rasa
def test_change_of_mind_to_an_emergency_then_hand_off_and_resume(
    stack: RasaStack, seeded: Session, clock: FixedClock
) -> None:
    key = _open(seeded, clock, DANA)
    dana = Customer(stack, key, {"channel": "sms", "caller": DANA, "language": "en"})
    dana.say("/check_balance")
    emergency = _text(dana.say(
        '/report_emergency{"address": "Oak Street and 5th"}'))
    request = seeded.scalars(select(ServiceRequest)).one()
    assert request.priority == "emergency" and request.reference in emergency
    assert "911" in emergency

    handoff = dana.say("/human_agent")
    ticket_id = _custom(handoff)[-1]["ticket_id"]
    assert seeded.get(Ticket, ticket_id) is not None
    assert _conversation(seeded, key).status == "handed_off"
    # The gateway resumes the conversation when the ticket is resolved; Rasa
    # picks up where it was, with nothing pending.
    greeting = _text(dana.say("/greet"))
    assert "How can I help you today?" in greeting


@pytest.mark.rasa
def test_side_question_inside_the_form_then_the_answer(
    stack: RasaStack, seeded: Session, clock: FixedClock
) -> None:
    key = _open(seeded, clock, DANA)
    dana = Customer(stack, key, {"channel": "sms", "caller": DANA, "language": "en"})
    assert "street address" in _text(dana.say("/outage"))
    side = _text(dana.say("/office_info"))
    assert "1250 Harbor Boulevard" in side and "street address" in side  # asked again
    known = _text(dana.say("512 Oak Street"))
    assert "Yes, we know about a problem" in known


@pytest.mark.rasa
def test_two_misunderstandings_in_a_row_hand_off(
    stack: RasaStack, seeded: Session, clock: FixedClock
) -> None:
    key = _open(seeded, clock, DANA)
    dana = Customer(stack, key, {"channel": "sms", "caller": DANA, "language": "en"})
    first = dana.say("/nlu_fallback")
    assert _custom(first) == []
    second = dana.say("/out_of_scope")
    assert _custom(second)[-1]["type"] == "handoff"
    ticket = seeded.scalars(select(Ticket)).one()
    assert "did not understand" in ticket.summary

