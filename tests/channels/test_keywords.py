"""STOP/START/HELP keywords and plain-language opt-outs, in English and Spanish."""

from __future__ import annotations

import pytest

from channels.keywords import KeywordKind, classify_keyword, normalize


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPT OUT",
        "optout",
        "Stop all",
        "PARAR",
        "Cancelar",
    ],
)
def test_standard_opt_out_keywords(text: str) -> None:
    match = classify_keyword(text)
    assert match is not None and match.kind is KeywordKind.OPT_OUT


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Please stop texting me", "en"),
        ("stop sending me texts!", "en"),
        ("Don't text me anymore", "en"),
        ("no more messages please", "en"),
        ("unsubscribe me", "en"),
        ("take me off your list", "en"),
        ("No más mensajes", "es"),
        ("no mas mensajes por favor", "es"),
        ("Ya no quiero recibir mensajes", "es"),
        ("Deje de enviarme mensajes", "es"),
        ("no me manden más mensajes", "es"),
    ],
)
def test_plain_language_opt_outs(text: str, language: str) -> None:
    match = classify_keyword(text)
    assert match is not None
    assert match.kind is KeywordKind.OPT_OUT
    assert match.language == language


@pytest.mark.parametrize(
    "text",
    [
        "cancel my autopay",
        "I want to stop service at 12 Oak St",
        "stop sending me paper bills",
        "how do I end my account",
        "no me envíe la factura en papel",
        "quit charging me twice",
        "what is my balance",
        "",
        "   ",
    ],
)
def test_ordinary_messages_are_not_keywords(text: str) -> None:
    assert classify_keyword(text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("START", KeywordKind.OPT_IN),
        ("unstop", KeywordKind.OPT_IN),
        ("yes", KeywordKind.OPT_IN_IF_OPTED_OUT),
        ("Sí", KeywordKind.OPT_IN_IF_OPTED_OUT),
        ("HELP", KeywordKind.HELP),
        ("info", KeywordKind.HELP),
        ("AYUDA", KeywordKind.HELP),
        ("OUT", KeywordKind.OUTAGE),
        ("stat", KeywordKind.STATUS),
        ("Status?", KeywordKind.STATUS),
    ],
)
def test_other_keywords(text: str, kind: KeywordKind) -> None:
    match = classify_keyword(text)
    assert match is not None and match.kind is kind


def test_help_in_spanish_is_marked_spanish() -> None:
    match = classify_keyword("ayuda")
    assert match is not None and match.language == "es"


def test_normalize() -> None:
    assert normalize("  No MÁS  mensajes!! ") == "no mas mensajes"
    assert normalize("Don’t") == "dont"
