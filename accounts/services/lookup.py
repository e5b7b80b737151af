"""Find accounts by phone, email or account number; unknown input is "not found"."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, ContactPoint
from accounts.phone import normalize_phone

_ACCOUNT_NUMBER = re.compile(r"^\d{6,10}$")


def normalize_account_number(raw: str | None) -> str | None:
    """Digits of an account number as customers write it (``"100-0417"``), or None."""
    if not raw:
        return None
    digits = re.sub(r"[\s\-#.]", "", raw.strip())
    return digits if _ACCOUNT_NUMBER.match(digits) else None


def find_account_by_number(*, session: Session, number: str | None) -> Account | None:
    """The account with this number, or None for unknown or malformed numbers."""
    normalized = normalize_account_number(number)
    if normalized is None:
        return None
    return session.scalars(select(Account).where(Account.number == normalized)).first()


def _by_contact(session: Session, kind: str, value: str) -> list[Account]:
    statement = (
        select(Account)
        .join(ContactPoint, ContactPoint.customer_id == Account.customer_id)
        .where(ContactPoint.kind == kind, ContactPoint.value == value)
        .order_by(Account.status != "active", Account.number)
    )
    return list(session.scalars(statement).unique())


def find_accounts_by_phone(*, session: Session, phone: str | None) -> list[Account]:
    """Accounts whose customer has this phone on file (any format), active first."""
    normalized = normalize_phone(phone)
    if normalized is None:
        return []
    return _by_contact(session, "phone", normalized)


def find_accounts_by_email(*, session: Session, email: str | None) -> list[Account]:
    """Accounts whose customer has this email on file (case-insensitive)."""
    if not email or "@" not in email:
        return []
    return _by_contact(session, "email", email.strip().lower())
