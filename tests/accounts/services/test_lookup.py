from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from accounts.services.lookup import (
    find_account_by_number,
    find_accounts_by_email,
    find_accounts_by_phone,
    normalize_account_number,
)


@pytest.mark.parametrize("raw,expected", [("1000417", "1000417"), ("100-0417", "1000417"),
                                          (" 1000 417 ", "1000417"), ("#1000417", "1000417"),
                                          ("abc", None), ("12", None), ("", None), (None, None),
                                          ("1" * 30, None)])
def test_account_number_normalisation(raw: str | None, expected: str | None) -> None:
    assert normalize_account_number(raw) == expected


def test_lookups(seeded: Session) -> None:
    dana = find_account_by_number(session=seeded, number="100-0417")
    assert dana is not None and dana.customer.name == "Dana Whitfield"
    assert find_account_by_number(session=seeded, number="9999999") is None
    assert find_account_by_number(session=seeded, number="not a number") is None
    by_email = find_accounts_by_email(session=seeded, email="Dana.Whitfield@Example.com")
    assert [a.number for a in by_email] == ["1000417"]
    assert find_accounts_by_email(session=seeded, email="nobody@example.com") == []
    assert find_accounts_by_email(session=seeded, email="garbage") == []
    assert find_accounts_by_phone(session=seeded, phone="(530) 555-0199") == []
