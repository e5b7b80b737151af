"""Keep card numbers out of storage and personal data out of logs (PCI DSS, privacy)."""

from __future__ import annotations

import re

CARD_PLACEHOLDER = "[card number removed]"

# 13–19 digits, optionally split by spaces or dashes.
_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{7,}\d")
_LONG_DIGITS = re.compile(r"(?<!\d)\d{4,}(?!\d)")


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def find_cards(text: str) -> list[str]:
    """Substrings of ``text`` that look like payment card numbers."""
    found = []
    for match in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(match.group())
    return found


def redact_cards(text: str) -> str:
    """``text`` with every card-like number replaced by a placeholder."""
    for card in find_cards(text):
        text = text.replace(card, CARD_PLACEHOLDER)
    return text


def redact_pii(text: str) -> str:
    """Text safe for a log line: no emails, phones, account or card numbers."""
    text = redact_cards(text)
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return _LONG_DIGITS.sub("[number]", text)


def mask_address(address: str) -> str:
    """A phone or email reduced to what a log may show (``+1530***0101``, ``d***@example.com``)."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) > 6:
        return f"{address[:5]}***{address[-2:]}"
    return "***"
