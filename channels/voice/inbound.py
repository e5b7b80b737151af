"""Reading a voice webhook: who calls, what they pressed or said, the URL's query.

Every field is capped here, before anything is recorded or sent to Rasa.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from accounts.phone import normalize_phone
from channels.base import InboundMessage
from channels.signature import TwilioRequest

MAX_SPEECH_CHARS = 500
MAX_DIGITS = 20

_SPANISH_REQUEST = re.compile(r"\b(espa[nñ]ol|spanish)\b", re.IGNORECASE)
#: A whole utterance that only asks for a language, mid-call.
_LANGUAGE_REQUEST: Mapping[str, re.Pattern[str]] = {
    "es": re.compile(r"(en |in )?(espa[nñ]ol|spanish)( por favor| please)?"),
    "en": re.compile(r"(en |in )?(english|ingl[eé]s)( please| por favor)?"),
}


def query(tw: TwilioRequest) -> dict[str, str]:
    """The query parameters of the URL Twilio called (turn number, ticket, amount)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(tw.url).query).items() if v}


def caller(tw: TwilioRequest) -> str:
    """The caller's number in E.164, or ``"anonymous"``."""
    raw = tw.get("From") or tw.get("Caller")
    return normalize_phone(raw) or "anonymous"


def message(
    tw: TwilioRequest,
    *,
    text_value: str,
    kind: str,
    key: str,
    language: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> InboundMessage:
    """The caller's input as the relay records it.

    Args:
        tw: The verified webhook.
        text_value: What goes on the contact log (speech, digits, a marker).
        kind: ``call``, ``speech``, ``dtmf``, ``no_input``, ``payment``, ``voicemail``.
        key: The request's external id (the redelivery key).
        language: ``"es"``/``"en"`` when this input chose the language.
        meta: Details kept on the log entry.
    """
    return InboundMessage(
        channel="voice",
        sender=caller(tw),
        text=text_value,
        external_id=key,
        language="es" if language == "es" else ("en" if language == "en" else None),
        kind=kind,
        meta=dict(meta or {}),
    )


def digits(tw: TwilioRequest) -> str:
    """The keys the caller pressed (digits, * and #), capped."""
    return re.sub(r"[^0-9*#]", "", tw.get("Digits"))[:MAX_DIGITS]


def speech(tw: TwilioRequest) -> str:
    """What the caller said, as Twilio transcribed it, capped."""
    return tw.get("SpeechResult")[:MAX_SPEECH_CHARS]


def confidence(tw: TwilioRequest) -> float:
    """Twilio's confidence in the transcription; 1 when missing or unreadable."""
    try:
        return float(tw.get("Confidence") or "1")
    except ValueError:
        return 1.0


def mentions_spanish(speech: str) -> bool:
    """Whether the caller said "español" (or "Spanish") anywhere, at the greeting."""
    return _SPANISH_REQUEST.search(speech) is not None


def language_request(speech: str) -> str | None:
    """``"es"``/``"en"`` when the caller only asked for a language ("español", "English please")."""
    words = " ".join(re.sub(r"[^\w\s]", " ", speech.lower()).split())
    for language, pattern in _LANGUAGE_REQUEST.items():
        if pattern.fullmatch(words):
            return language
    return None
