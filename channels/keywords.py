"""SMS keywords handled before the assistant sees a message.

Carrier rules (CTIA) and the TCPA require STOP-style keywords to opt a number
out of every text, START-style keywords to opt back in and HELP to answer with
the program's details. Twilio matches its standard keywords only when they are
the whole message; plain-language requests ("please stop texting me") must be
honoured too, so those are matched by phrase. OUT asks "is there an outage?"
(the assistant answers); STAT / STATUS ask for the latest notice on the
sender's address, answered from the notices themselves (issue 7).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass


class KeywordKind(enum.Enum):
    """What a keyword asks for."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    #: "YES" / "SÍ" opt back in only when the number is opted out; otherwise
    #: they are an ordinary answer for the assistant.
    OPT_IN_IF_OPTED_OUT = "opt_in_if_opted_out"
    HELP = "help"
    OUTAGE = "outage"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    """A recognised keyword: its kind, and the language it was written in when clear."""

    kind: KeywordKind
    language: str | None = None


OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt out",
        "stop all",
        "parar",
        "alto",
        "baja",
        "cancelar",
    }
)
OPT_IN_WORDS = frozenset({"start", "unstop", "subscribe"})
OPT_IN_IF_OUT_WORDS = frozenset({"yes", "si"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})
OUTAGE_WORDS = frozenset({"out"})
STATUS_WORDS = frozenset({"stat", "status"})

_SPANISH_WORDS = frozenset({"parar", "alto", "baja", "cancelar", "si", "ayuda"})

# Plain-language opt-outs. Matched on the normalised text (lowercase, accents
# removed, punctuation dropped), so "No más mensajes!" matches "no mas mensajes".
_EN_OPT_OUT = [
    r"\bstop (texting|messaging|txting)\b",
    r"\bstop (sending|contacting) me( any ?more)?( please)?$",
    r"\bstop sending (me )?(any more |anymore )?(texts|messages|sms|txts)\b",
    r"\bstop (the |these |your |all )?(texts|messages|sms|txts)\b",
    r"\b(dont|do not|never) (text|message|sms) me\b",
    r"\bno more (texts|messages|sms|txts)\b",
    r"\bunsubscribe me\b",
    r"\b(remove|take) me (off|from) (your|the|this) (list|texting list|text list)\b",
    r"^(please )?opt me out( please)?$",
]
_ES_OPT_OUT = [
    r"\bno (mas|quiero mas) (mensajes|textos)\b",
    r"\bno me (envie|envies|envien|mande|mandes|manden) (mas )?(mensajes|textos)\b",
    r"\bdej(a|e|en) de (enviar|mandar)(me)? (mensajes|textos)\b",
    r"\bdej(a|e|en) de escribir(me)?\b",
    r"\b(ya )?no quiero (recibir )?(mas )?(mensajes|textos)\b",
    r"\b(borrar|quitar|sacar)(me)? de (la|su|esta) lista\b",
    r"\bdarme de baja\b",
]
_EN_RE = [re.compile(p) for p in _EN_OPT_OUT]
_ES_RE = [re.compile(p) for p in _ES_OPT_OUT]

#: Longer messages are conversations, not keyword requests.
_MAX_PHRASE_LENGTH = 160


def normalize(text: str) -> str:
    """Lowercase, strip accents and punctuation, collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = stripped.casefold().replace("'", "").replace("’", "")
    cleaned = re.sub(r"[^\w\s]", " ", lowered)
    return " ".join(cleaned.split())


def classify_keyword(text: str) -> KeywordMatch | None:
    """Recognise an SMS keyword or a plain-language opt-out.

    Args:
        text: The inbound message body.

    Returns:
        The match, or ``None`` when the message is for the assistant.
    """
    norm = normalize(text)
    if not norm:
        return None
    language = "es" if norm in _SPANISH_WORDS else None
    if norm in OPT_OUT_WORDS:
        return KeywordMatch(KeywordKind.OPT_OUT, language)
    if norm in OPT_IN_WORDS:
        return KeywordMatch(KeywordKind.OPT_IN, language)
    if norm in OPT_IN_IF_OUT_WORDS:
        return KeywordMatch(KeywordKind.OPT_IN_IF_OPTED_OUT, language)
    if norm in HELP_WORDS:
        return KeywordMatch(KeywordKind.HELP, language)
    if norm in OUTAGE_WORDS:
        return KeywordMatch(KeywordKind.OUTAGE, language)
    if norm in STATUS_WORDS:
        return KeywordMatch(KeywordKind.STATUS, language)
    if len(norm) > _MAX_PHRASE_LENGTH:
        return None
    if any(p.search(norm) for p in _ES_RE):
        return KeywordMatch(KeywordKind.OPT_OUT, "es")
    if any(p.search(norm) for p in _EN_RE):
        return KeywordMatch(KeywordKind.OPT_OUT, "en")
    return None
