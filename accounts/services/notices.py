"""Outages, planned work and water-quality notices that affect an address."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, Notice

# Planned work is worth mentioning a week ahead.
PLANNED_HORIZON = timedelta(days=7)

_SUFFIXES = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "dr": "drive",
    "ln": "lane", "ct": "court", "rd": "road", "blvd": "boulevard", "wy": "way",
    "pl": "place", "cir": "circle", "calle": "", "avenida": "",
}


def normalize_street(text: str) -> str:
    """``"oak st."`` → ``"oak street"``; used to compare free text with notice streets."""
    words = re.findall(r"[a-záéíóúñ]+", text.lower())
    return " ".join(_SUFFIXES.get(word, word) for word in words if _SUFFIXES.get(word, word))


def _current(session: Session, now: datetime) -> list[Notice]:
    statement = select(Notice).where(
        Notice.status != "closed", Notice.starts_at <= now + PLANNED_HORIZON
    )
    return [n for n in session.scalars(statement) if n.ended_at is None or n.ended_at > now]


def _street_matches(entry: dict[str, object], street: str, number: int | None) -> bool:
    if normalize_street(str(entry.get("street", ""))) != street:
        return False
    low, high = entry.get("from"), entry.get("to")
    if number is None or low is None or high is None:
        return True
    return int(str(low)) <= number <= int(str(high))


class Located(Protocol):
    """An account, or any row with its zone and street columns."""

    zone: str
    street_name: str
    street_number: int | None


def account_is_affected(notice: Notice, account: Located) -> bool:
    """Whether ``notice`` covers the account's zone and, if it names streets, its block."""
    if account.zone not in (notice.zones or []):
        return False
    if not notice.streets:
        return True
    street = normalize_street(account.street_name)
    return any(_street_matches(entry, street, account.street_number) for entry in notice.streets)


def notices_for_account(*, session: Session, account: Account, now: datetime) -> list[Notice]:
    """Active or upcoming notices for the account's zone or street block."""
    return [notice for notice in _current(session, now) if account_is_affected(notice, account)]


def notices_for_street(*, session: Session, text: str, now: datetime) -> list[Notice]:
    """Active or upcoming notices naming a street in free text (``"1409 oak st"``)."""
    number_match = re.match(r"\s*(\d+)", text)
    number = int(number_match.group(1)) if number_match else None
    street = normalize_street(re.sub(r"^\s*\d+\s*", "", text))
    if not street:
        return []
    return [
        notice
        for notice in _current(session, now)
        if any(_street_matches(e, street, number) for e in notice.streets)
    ]


def notices_for_zone(*, session: Session, zone: str, now: datetime) -> list[Notice]:
    """Active or upcoming notices covering a whole pressure zone."""
    return [n for n in _current(session, now) if zone in n.zones and not n.streets]
