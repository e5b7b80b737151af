"""The NLU client: Rasa's /model/parse, against the real Rasa server with the trained model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import ProcessedEmail
from accounts.settings import Settings
from gateway.services import Services
from inbox.classify import ClassifierUnavailable, RasaClassifier, parse_rasa_response
from inbox.reply import SmtpSender
from tests.inbox import corpus
from tests.inbox.harness import imap_source, make_inbox, services_for
from tests.utils.dovecot import DovecotUser
from tests.utils.rasa import RasaStack
from tests.utils.servers import free_port
from tests.utils.smtp_server import SmtpTestServer


def test_parse_rasa_response_maps_fallback_to_out_of_scope() -> None:
    parsed = parse_rasa_response(
        {
            "text": "x",
            "intent": {"name": "nlu_fallback", "confidence": 0.7},
            "intent_ranking": [
                {"name": "nlu_fallback", "confidence": 0.7},
                {"name": "outage", "confidence": 0.2},
            ],
            "entities": [{"entity": "account_number", "value": "1000417"}],
        }
    )
    assert parsed.intent == "out_of_scope"
    assert parsed.ranking == (("nlu_fallback", 0.7), ("outage", 0.2))
    assert parsed.entity_values("account_number") == ["1000417"]


def test_parse_rasa_response_rejects_nonsense() -> None:
    with pytest.raises(ClassifierUnavailable):
        parse_rasa_response({"error": "no model"})


def test_rasa_down_is_a_system_error() -> None:
    with httpx.Client() as http:
        classifier = RasaClassifier(
            http=http, base_url=f"http://127.0.0.1:{free_port()}", timeout=2
        )
        with pytest.raises(ClassifierUnavailable):
            classifier.classify("is there an outage?")


@pytest.fixture
def rasa_classifier(rasa_stack: RasaStack) -> Iterator[RasaClassifier]:
    with httpx.Client() as http:
        yield RasaClassifier(http=http, base_url=rasa_stack.rasa_url, token=rasa_stack.token)


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "No water on Oak Street\nWe have had no water since this morning. Is there an outage?",
            "outage",
        ),
        ("How much do I owe on my account?", "check_balance"),
        ("A water main broke and water is gushing into the street!", "report_emergency"),
        ("¿Cuánto debo en mi cuenta?", "check_balance"),
    ],
)
def test_real_rasa_classifies_email_text(
    rasa_classifier: RasaClassifier, text: str, intent: str
) -> None:
    assert rasa_classifier.classify(text).intent == intent


@pytest.mark.rasa
@pytest.mark.dovecot
def test_loop_with_real_rasa(
    rasa_classifier: RasaClassifier,
    seeded: Session,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
) -> None:
    containers = services_for(settings, engine, clock)
    services: Services = next(containers)
    try:
        inbox = make_inbox(
            services,
            source=imap_source(dovecot),
            sender=SmtpSender(host=smtp_server.host, port=smtp_server.port),
            classifier=rasa_classifier,
        )
        dovecot.append(corpus.plain())  # Dana asks about the outage on Oak Street
        asyncio.run(inbox.poll_once())
        inbox.worker.source.close()
    finally:
        containers.close()
    seeded.rollback()
    assert seeded.scalars(select(ProcessedEmail)).one().outcome == "answered"
    (mail,) = smtp_server.wait_for(1)
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None and "Oak Street" in body.get_content()
