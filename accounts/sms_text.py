"""SMS text rules: GSM-7 detection, segment counting and splitting.

Numbers from the GSM 03.38 standard as Twilio applies them: a single-segment
message holds 160 GSM-7 septets or 70 UCS-2 characters; concatenated segments
hold 153 / 67 because of the user-data header. One character outside GSM-7
(á, í, ó, ú, curly quotes, emoji) turns the whole message into UCS-2. Twilio
refuses a body over 1,600 characters.
"""

from __future__ import annotations

import re

# GSM 03.38 basic character set (one septet each).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets (escape + char).
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

TWILIO_MAX_BODY = 1600
DEFAULT_TARGET = 320

_SENTENCE_END = re.compile(r"(?<=[.!?¡¿:;])\s+")


def is_gsm7(text: str) -> bool:
    """Whether the whole text can be sent in the GSM-7 alphabet."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def septet_length(text: str) -> int:
    """Length in GSM-7 septets (extension characters count twice)."""
    return sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)


def ucs2_length(text: str) -> int:
    """Length in UTF-16 code units (characters outside the BMP, like emoji, count twice)."""
    return len(text.encode("utf-16-le")) // 2


def segment_count(text: str) -> int:
    """How many SMS segments the text costs.

    Args:
        text: The message body.

    Returns:
        The number of segments (0 for an empty text).
    """
    if not text:
        return 0
    if is_gsm7(text):
        length, single, multi = septet_length(text), 160, 153
    else:
        length, single, multi = ucs2_length(text), 70, 67
    if length <= single:
        return 1
    return -(-length // multi)


def encoding_name(text: str) -> str:
    """``"GSM-7"`` or ``"UCS-2"``, as Twilio would encode the text."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _pieces(text: str, target: int) -> list[tuple[str, str]]:
    """Break text into ``(joiner, piece)`` pairs, each piece at most ``target`` long.

    The joiner is what stood before the piece in the original text: a newline
    when the piece starts a line, a space when it continues one. Lines are cut
    at sentence ends first, then between words, then (a URL, say) anywhere.
    """
    pieces: list[tuple[str, str]] = []
    for line in text.split("\n"):
        joiner = "\n"
        if len(line) <= target:
            pieces.append((joiner, line))
            continue
        for sentence in _SENTENCE_END.split(line):
            if len(sentence) <= target:
                pieces.append((joiner, sentence))
                joiner = " "
                continue
            current = ""
            for word in sentence.split(" "):
                while len(word) > target:
                    if current:
                        pieces.append((joiner, current))
                        joiner, current = " ", ""
                    pieces.append((joiner, word[:target]))
                    joiner, word = "", word[target:]
                candidate = f"{current} {word}" if current else word
                if len(candidate) <= target:
                    current = candidate
                else:
                    pieces.append((joiner, current))
                    joiner, current = " ", word
            if current:
                pieces.append((joiner, current))
            joiner = " "
    return pieces


def split_message(text: str, *, target: int = DEFAULT_TARGET) -> list[str]:
    """Split a reply into SMS bodies of at most ``target`` characters.

    Lines are kept together where they fit, then sentences, then words; a body
    never exceeds Twilio's 1,600-character cap whatever ``target`` is.

    Args:
        text: The reply text.
        target: Preferred maximum length of one body.

    Returns:
        The bodies in order; empty when the text is blank.
    """
    limit = max(1, min(target, TWILIO_MAX_BODY))
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    bodies: list[str] = []
    current = ""
    for joiner, piece in _pieces(text, limit):
        if not piece.strip():
            # A blank line is a paragraph break: a good place to start a new body.
            if current and len(current) > limit // 2:
                bodies.append(current)
                current = ""
            elif current:
                current += "\n"
            continue
        candidate = f"{current}{joiner}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            bodies.append(current)
            current = piece
    if current:
        bodies.append(current)
    return [b.strip() for b in bodies if b.strip()]
