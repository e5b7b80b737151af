"""The customer-facing texts of the actions, in English and Spanish.

The texts live in messages.yml beside this module (a district edits words,
not code); every key has an ``en`` and an ``es`` text with the same
placeholders, which tests/bot/test_responses.py checks.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

CATALOG = Path(__file__).with_name("messages.yml")
LANGUAGES = ("en", "es")

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}
_WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    """The message catalog, read once on first use."""
    with CATALOG.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return data["messages"]


def language(tracker: Tracker) -> str:
    """The conversation's language ("en" or "es")."""
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "en"


def channel(tracker: Tracker) -> str:
    """The conversation's channel ("sms", "voice" or "email")."""
    return tracker.get_slot("channel") or "sms"


def text(lang: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in."""
    entry = catalog()[key]
    return entry.get(lang, entry["en"]).format(**values)


def say(tracker: Tracker, key: str, **values: Any) -> str:
    """The message ``key`` in the conversation's language."""
    return text(language(tracker), key, **values)


def money(value: Any) -> str:
    """``"84.2"`` -> ``"$84.20"``; the same in both languages (US dollars)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"${amount:,.2f}"


def day(lang: str, value: str | None) -> str:
    """An ISO date as "December 8" / "8 de diciembre"."""
    if not value:
        return ""
    parsed = date.fromisoformat(value[:10])
    month = _MONTHS[lang][parsed.month - 1]
    return f"{month} {parsed.day}" if lang == "en" else f"{parsed.day} de {month}"


def clock_time(lang: str, value: datetime) -> str:
    """A wall-clock time as "9:00 AM" / "9:00 a. m."."""
    hour = value.hour % 12 or 12
    suffix = (
        ("AM" if value.hour < 12 else "PM")
        if lang == "en"
        else ("a. m." if value.hour < 12 else "p. m.")
    )
    return f"{hour}:{value.minute:02d} {suffix}"


def moment(lang: str, value: str | None) -> str:
    """An ISO date-time (already in the district's time zone) as
    "Monday, December 8 at 9:00 AM" / "el lunes 8 de diciembre a las 9:00 a. m."."""
    if not value:
        return ""
    parsed = datetime.fromisoformat(value)
    weekday = _WEEKDAYS[lang][parsed.weekday()]
    when = day(lang, parsed.date().isoformat())
    if lang == "en":
        return f"{weekday}, {when} at {clock_time(lang, parsed)}"
    return f"el {weekday} {when} a las {clock_time(lang, parsed)}"
