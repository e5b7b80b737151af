from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import VerificationAttempt
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import (
    find_account_by_number,
    find_accounts_by_email,
    find_accounts_by_phone,
    normalize_account_number,
)
from accounts.services.verification import MAX_FAILURES, check_factor


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


def test_zip_or_last4_verifies_and_raises_the_tier(seeded: Session, clock: FixedClock) -> None:
    account = find_account_by_number(session=seeded, number="1000417")
    conversation, _ = get_or_open_conversation(session=seeded, channel="sms",
                                               external_id="+15305550101", now=clock.now())
    result = check_factor(session=seeded, account=account, answer="95616", now=clock.now(),
                          conversation=conversation)
    assert result.ok and result.factor == "zip"
    assert conversation.verification_tier == 1
    assert check_factor(session=seeded, account=account, answer="it's 0417",
                        now=clock.now()).ok


def test_failures_are_counted_and_lock(seeded: Session, clock: FixedClock) -> None:
    account = find_account_by_number(session=seeded, number="1002001")
    results = [check_factor(session=seeded, account=account, answer=answer, now=clock.now())
               for answer in ("00000", "1234", "95618")]
    assert [r.attempts_left for r in results] == [2, 1, 0]
    assert results[-1].locked
    # Even the right answer is refused while locked, and nothing more is recorded.
    locked = check_factor(session=seeded, account=account, answer="95616", now=clock.now())
    assert not locked.ok and locked.locked
    attempts = seeded.scalars(select(VerificationAttempt)
                              .where(VerificationAttempt.account_id == account.id)).all()
    assert len(attempts) == MAX_FAILURES
    # The window passes: the customer may try again.
    clock.advance(timedelta(hours=25))
    assert check_factor(session=seeded, account=account, answer="95616", now=clock.now()).ok
