from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import VerificationAttempt
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import (
    find_account_by_number,
)
from accounts.services.verification import MAX_FAILURES, check_factor


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
