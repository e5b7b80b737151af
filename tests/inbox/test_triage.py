"""Triage's text rules: opt-out requests, sentences, streets, and the reading of topics."""

from __future__ import annotations

import pytest

from inbox.classify import Classification
from inbox.parse import parse_email
from inbox.triage import _Reading, asks_to_stop_email, sentences, streets_in
from tests.inbox import corpus


@pytest.mark.parametrize(
    "body",
    [
        "Please stop emailing me.",
        "Unsubscribe",
        "Take me off your email list please",
        "remove me from the mailing list",
        "Por favor dejen de enviarme correos.",
        "No me envíen más correos",
    ],
)
def test_opt_out_requests_are_recognised(body: str) -> None:
    assert asks_to_stop_email(parse_email(corpus.plain(subject="hello", body=body)))


@pytest.mark.parametrize(
    "body",
    [
        "I want to stop service when I move out on the 15th.",
        "Please email me my bill instead of mailing it.",
        "Can you stop the autopay on my account?",
    ],
)
def test_service_requests_are_not_opt_outs(body: str) -> None:
    assert not asks_to_stop_email(parse_email(corpus.plain(subject="hello", body=body)))


def test_sentences_skip_greetings_and_fragments() -> None:
    text = "Hi,\nHow much is my balance? Also, I am moving out soon.\nThanks\nLinh"
    assert sentences(text) == ["How much is my balance?", "Also, I am moving out soon."]


@pytest.mark.parametrize(
    ("text", "streets"),
    [
        ("No water at 530 Oak Street since 8am", ["530 Oak Street"]),
        ("vivimos en el 530 de Oak Street", ["530 Oak Street"]),
        ("Is Maple Ave closed? And Cedar Court?", ["Maple Ave", "Cedar Court"]),
        ("no street here, just water", []),
    ],
)
def test_streets_in_text(text: str, streets: list[str]) -> None:
    assert streets_in(text) == streets


def _c(intent: str, confidence: float) -> Classification:
    return Classification(intent=intent, confidence=confidence)


def test_a_confident_second_request_is_another_topic() -> None:
    reading = _Reading(
        _c("check_balance", 0.92),
        (_c("check_balance", 1.0), _c("stop_service", 0.96), _c("water_quality", 1.0)),
    )
    assert reading.other_topic("check_balance") == "stop_service"


def test_related_unsure_or_topicless_sentences_are_not_another_topic() -> None:
    reading = _Reading(
        _c("check_balance", 1.0),
        (
            _c("make_payment", 0.99),  # answered together with the balance
            _c("payment_arrangement", 0.81),  # "I'm paying for my daughter": unsure
            _c("out_of_scope", 0.94),  # "The invoice is attached."
            _c("thank_you", 0.97),
        ),
    )
    assert reading.other_topic("check_balance") is None
