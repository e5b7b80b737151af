"""Digits out of what customers type or say: "95616", "9 5 6 1 6", "nine five six one six",
"cuatro cero uno siete", "100-0417".

Voice transcripts spell numbers as words and split them into single digits;
this joins them back so ZIP codes and account numbers can be checked.
"""

from __future__ import annotations

import re

_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "to": None,
    "too": None,
    "three": "3",
    "four": "4",
    "for": None,
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "cero": "0",
    "uno": "1",
    "un": "1",
    "una": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}
_TOKEN = re.compile(r"[a-záéíóúñ]+|[\d][\d\-.]*", re.IGNORECASE)


def digit_groups(text: str | None) -> list[str]:
    """The digit sequences in ``text``, single spoken/typed digits joined together.

    Words that are also ordinary words ("to", "for") are never read as digits;
    "oh"/"o" count as zero only between other digits.
    """
    if not text:
        return []
    groups: list[str] = []
    run: list[str] = []
    tokens = _TOKEN.findall(text.lower())

    def flush() -> None:
        if run:
            # "oh" at either end of a run is a word, not a zero.
            joined = "".join(run).strip("o")
            if joined:
                groups.append(joined.replace("o", "0"))
            run.clear()

    for token in tokens:
        if token[0].isdigit():
            if re.fullmatch(r"\d{5}-\d{4}", token):  # ZIP+4: the ZIP is what we check
                flush()
                groups.append(token[:5])
                continue
            digits = re.sub(r"[\-.]", "", token)
            if len(digits) == 1:
                run.append(digits)
            else:
                flush()
                groups.append(digits)
            continue
        word = _WORDS.get(token)
        if word is not None:
            run.append("o" if token in ("oh", "o") else word)
        else:
            flush()
    flush()
    return [group for group in groups if group.isdigit()]


def first_group(text: str | None, lengths: range) -> str | None:
    """The first digit group whose length is in ``lengths``."""
    return next((group for group in digit_groups(text) if len(group) in lengths), None)


ZIP = range(5, 6)
LAST4 = range(4, 5)
ACCOUNT = range(6, 11)
FACTOR = range(4, 11)
