"""The phone line's fixed phrases: both languages, the caller's language chosen."""

from __future__ import annotations

import string

from channels.voice import copy


def _fields(phrase: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(phrase) if name}


def test_every_phrase_exists_in_english_and_spanish_with_the_same_blanks() -> None:
    english, spanish = copy._TEXT["en"], copy._TEXT["es"]
    assert set(english) == set(spanish)
    for key in english:
        assert _fields(english[key]) == _fields(spanish[key]), key


def test_phrase_in_the_callers_language_with_english_as_the_default() -> None:
    assert copy.text("es", "goodbye") == "Gracias por llamar. Adiós."
    assert copy.text("es-MX", "goodbye") == "Gracias por llamar. Adiós."
    assert copy.text("en", "goodbye") == "Thank you for calling. Goodbye."
    assert copy.text(None, "goodbye") == "Thank you for calling. Goodbye."
    assert copy.text("fr", "goodbye") == "Thank you for calling. Goodbye."


def test_phrase_blanks_are_filled() -> None:
    assert copy.text("en", "welcome", name="Valley Springs Water District") == (
        "Thank you for calling Valley Springs Water District."
    )
    assert copy.text("es", "paid", amount="84.20", code="Z, X") == (
        "Gracias. Su pago de 84.20 dólares fue aprobado. "
        "Su número de confirmación es Z, X. Repito, Z, X."
    )
