"""Tier-1 verification of a conversation: which account, which factor, how many tries.

``verification.check_factor`` checks one factor against one account; this
module decides which account a conversation's answer is about: one of the
accounts whose phone/email matches the sender (then ZIP, last 4 digits or the
whole account number), or the account the customer names (account number +
ZIP). Failures also count per sender address, so guessing account numbers from
one phone is limited too.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account, Conversation, VerificationAttempt
from accounts.services.contacts import link_conversation_to_account
from accounts.services.lookup import (
    find_account_by_number,
    find_accounts_by_email,
    find_accounts_by_phone,
    normalize_account_number,
)
from accounts.services.verification import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    VerificationResult,
    check_factor,
    factor_kind,
)


@dataclass(frozen=True)
class IdentityResult:
    """Outcome of one verification answer of a conversation."""

    verified: bool
    tier: int
    attempts_left: int
    locked: bool


def caller_accounts(*, session: Session, conversation: Conversation) -> list[Account]:
    """Accounts whose phone or email on file is the conversation's sender."""
    address = conversation.customer_address
    if "@" in address:
        return find_accounts_by_email(session=session, email=address)
    return find_accounts_by_phone(session=session, phone=address)


def address_failures(*, session: Session, address: str, now: datetime) -> int:
    """Failed attempts from one sender address within the window, any account."""
    if not address:
        return 0
    statement = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.address == address,
        VerificationAttempt.success.is_(False),
        VerificationAttempt.at >= now - FAILURE_WINDOW,
    )
    return int(session.scalar(statement) or 0)


def _answer_matches(account: Account, answer: str) -> bool:
    digits = re.sub(r"\D", "", answer)
    if len(digits) > 5:
        return hmac.compare_digest(digits, account.number)
    return factor_kind(account, digits)[1]


def _finish(
    session: Session,
    conversation: Conversation,
    account: Account,
    result: VerificationResult,
    now: datetime,
) -> IdentityResult:
    # Tries left are the tighter of the account's and the sender's budgets.
    address = conversation.customer_address
    left = max(
        min(
            result.attempts_left,
            MAX_FAILURES - address_failures(session=session, address=address, now=now),
        ),
        0,
    )
    ok = result.ok
    if ok:
        link_conversation_to_account(session=session, conversation=conversation, account=account)
    return IdentityResult(
        verified=ok,
        tier=conversation.verification_tier,
        attempts_left=left,
        locked=not ok and left == 0,
    )


def _locked(conversation: Conversation) -> IdentityResult:
    return IdentityResult(
        verified=False, tier=conversation.verification_tier, attempts_left=0, locked=True
    )


def verify_caller(
    *, session: Session, conversation: Conversation, answer: str, now: datetime
) -> IdentityResult:
    """The sender matched account(s): check ZIP, last 4 digits or the account number.

    Raises:
        LookupError: the sender matches no account (ask for account number + ZIP).
    """
    candidates = caller_accounts(session=session, conversation=conversation)
    if not candidates:
        raise LookupError("the sender matches no account")
    address = conversation.customer_address
    if address_failures(session=session, address=address, now=now) >= MAX_FAILURES:
        return _locked(conversation)
    chosen = next((a for a in candidates if _answer_matches(a, answer)), candidates[0])
    digits = re.sub(r"\D", "", answer)
    # A whole account number proves at least what its last 4 digits prove.
    factor = digits[-4:] if len(digits) > 5 and _answer_matches(chosen, digits) else digits
    result = check_factor(
        session=session, account=chosen, answer=factor, now=now, conversation=conversation,
        address=address,
    )
    return _finish(session, conversation, chosen, result, now)


def verify_account_and_zip(
    *, session: Session, conversation: Conversation, account_number: str, zip_code: str,
    now: datetime,
) -> IdentityResult:
    """The customer named an account: its number and service ZIP must both match."""
    address = conversation.customer_address
    if address_failures(session=session, address=address, now=now) >= MAX_FAILURES:
        return _locked(conversation)
    account = find_account_by_number(session=session, number=account_number)
    if account is None:
        session.add(
            VerificationAttempt(
                account_id=None,
                conversation_id=conversation.id,
                address=address,
                factor="number" if normalize_account_number(account_number) else "unknown",
                success=False,
                at=now,
            )
        )
        session.flush()
        left = MAX_FAILURES - address_failures(session=session, address=address, now=now)
        return IdentityResult(
            verified=False, tier=conversation.verification_tier,
            attempts_left=max(left, 0), locked=left <= 0,
        )
    zip_digits = re.sub(r"\D", "", zip_code)[:5]
    result = check_factor(
        session=session, account=account, answer=zip_digits if len(zip_digits) == 5 else "x",
        now=now, conversation=conversation, address=address,
    )
    return _finish(session, conversation, account, result, now)
