"""Which language a first text is in: a small heuristic over common words and accents."""

from __future__ import annotations

import pytest

from channels.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, ¿cuánto debo?", "es"),
        ("no tengo agua en mi casa", "es"),
        ("quiero pagar mi factura", "es"),
        ("¿Cuál es mi saldo?", "es"),
        ("Buenas tardes, hay una fuga en la calle", "es"),
        ("what is my balance", "en"),
        ("no water on my street", "en"),
        ("I want to pay my bill", "en"),
    ],
)
def test_clear_texts_are_recognised(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "1", "STOP", "Hola", "ok", "12 Oak St", "no", "yes"])
def test_too_little_evidence_decides_nothing(text: str) -> None:
    assert detect_language(text) is None


def test_an_accent_counts_as_one_spanish_word() -> None:
    assert detect_language("mi presión") == "es"
    assert detect_language("José called about my bill") == "en"
