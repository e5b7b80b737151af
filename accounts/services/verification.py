"""Tier-1 identity checks (service ZIP or last 4 digits of the account), rate-limited."""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account, Conversation, VerificationAttempt

log = logging.getLogger(__name__)

MAX_FAILURES = 3
FAILURE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of one factor check."""

    ok: bool
    attempts_left: int
    locked: bool
    factor: str


def factor_kind(account: Account, answer: str) -> tuple[str, bool]:
    """Which factor ``answer`` is (zip, last4, unknown) and whether it matches ``account``."""
    digits = re.sub(r"\D", "", answer)
    if len(digits) == 5:
        return "zip", hmac.compare_digest(digits, account.zip[:5])
    if len(digits) == 4:
        return "last4", hmac.compare_digest(digits, account.number[-4:])
    return "unknown", False


def recent_failures(*, session: Session, account: Account, now: datetime) -> int:
    """Failed attempts on this account within the window."""
    statement = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.account_id == account.id,
        VerificationAttempt.success.is_(False),
        VerificationAttempt.at >= now - FAILURE_WINDOW,
    )
    return int(session.scalar(statement) or 0)


def check_factor(
    *,
    session: Session,
    account: Account,
    answer: str,
    now: datetime,
    conversation: Conversation | None = None,
    address: str = "",
) -> VerificationResult:
    """Check a knowledge factor for ``account``; on success raise the conversation to tier 1.

    Failures count per account over 24 hours across every channel, so trying
    ZIPs by SMS and then by phone does not reset the limit.
    """
    failures = recent_failures(session=session, account=account, now=now)
    if failures >= MAX_FAILURES:
        log.warning("verification locked for an account after %d failures", failures)
        return VerificationResult(ok=False, attempts_left=0, locked=True, factor="none")
    factor, ok = factor_kind(account, answer)
    session.add(
        VerificationAttempt(
            account_id=account.id,
            conversation_id=conversation.id if conversation else None,
            address=address,
            factor=factor,
            success=ok,
            at=now,
        )
    )
    if ok and conversation is not None:
        conversation.verification_tier = max(conversation.verification_tier, 1)
        conversation.account_id = account.id
    if not ok:
        failures += 1
        log.info("verification failed (%s), %d of %d", factor, failures, MAX_FAILURES)
    session.flush()
    left = max(MAX_FAILURES - failures, 0)
    return VerificationResult(ok=ok, attempts_left=left, locked=left == 0 and not ok, factor=factor)
