"""Card payments taken on the phone line (Twilio ``<Pay>``): posted, or handed to a person.

The card never reaches the district: ``<Pay>`` reports only a result, a
confirmation code, the amount and masked card details. An approved payment
is posted on the account once per confirmation code (Twilio redelivers
callbacks); an approved payment that cannot be posted becomes a ticket, so a
charge is never lost; anything else is logged as not completed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.models import Account, Conversation, Payment
from accounts.services.contacts import record_contact
from accounts.services.lookup import find_account_by_number
from accounts.services.tickets import open_ticket

CHANNEL = "voice"


class PhonePaymentOutcome(StrEnum):
    """What became of a phone payment."""

    POSTED = "posted"
    """Approved and on the account."""
    TO_POST = "to_post"
    """Approved, but the account or the details are missing: a CSR posts it."""
    NOT_COMPLETED = "not_completed"
    """Declined, failed or cancelled: nothing was charged."""


def record_phone_payment(
    *,
    session: Session,
    calendar: BusinessCalendar,
    conversation: Conversation,
    account_number: str,
    result: str,
    confirmation: str,
    amount: Decimal | None,
    details: dict[str, Any],
    now: datetime,
) -> PhonePaymentOutcome:
    """Record what ``<Pay>`` reported on the account and the contact log.

    Args:
        session: Database session (flushed, not committed).
        calendar: Business calendar (the due time of a ticket to post by hand).
        conversation: The call.
        account_number: The account the payment was started for ("" when not
            known); else the call's own account.
        result: ``<Pay>``'s ``Result``, lower-cased (``success`` when charged).
        confirmation: The payment's confirmation code ("" when missing).
        amount: The amount charged, when known.
        details: What is kept of the card and the error on a failed payment.
        now: The time of the payment.

    Returns:
        Whether the payment was posted, needs a person, or was not completed.
    """
    account = _payment_account(session, conversation, account_number)
    if result == "success" and confirmation and amount is not None and account is not None:
        existing = session.scalars(
            select(Payment).where(Payment.confirmation == confirmation)
        ).first()
        if existing is None:
            session.add(
                Payment(
                    account_id=account.id,
                    amount=amount,
                    method="card",
                    posted_at=now,
                    confirmation=confirmation,
                    source_channel=CHANNEL,
                )
            )
        record_contact(
            session=session,
            channel=CHANNEL,
            direction="internal",
            kind="payment",
            body=f"Phone payment of ${amount} approved, confirmation {confirmation}.",
            at=now,
            conversation=conversation,
            account=account,
            actor="system",
            meta={"confirmation": confirmation, "amount": str(amount)},
        )
        conversation.outcome = "paid"
        return PhonePaymentOutcome.POSTED
    if result == "success":
        # Charged but we cannot post it: a person must (never lose a payment).
        ticket = open_ticket(
            session=session,
            calendar=calendar,
            intent="make_payment",
            channel=CHANNEL,
            now=now,
            conversation=conversation,
            account=account,
            summary=(
                f"A phone payment was approved (confirmation {confirmation or 'missing'}, "
                f"amount {amount or 'unknown'}) but could not be posted automatically: "
                f"{'no account' if account is None else 'missing details'}. Post it by hand."
            ),
            reason="phone payment to post",
            hand_off=False,
        )
        record_contact(
            session=session,
            channel=CHANNEL,
            direction="internal",
            kind="payment",
            body=f"Phone payment approved but not posted; ticket #{ticket.id}.",
            at=now,
            conversation=conversation,
            account=account,
            actor="system",
            ticket_id=ticket.id,
        )
        return PhonePaymentOutcome.TO_POST
    record_contact(
        session=session,
        channel=CHANNEL,
        direction="internal",
        kind="payment_failed",
        body=f"Phone payment not completed: {result or 'no result'}.",
        at=now,
        conversation=conversation,
        account=account,
        actor="system",
        meta=details,
    )
    return PhonePaymentOutcome.NOT_COMPLETED


def _payment_account(
    session: Session, conversation: Conversation, account_number: str
) -> Account | None:
    if account_number:
        account = find_account_by_number(session=session, number=account_number)
        if account is not None:
            return account
    if conversation.account_id is not None:
        return session.get(Account, conversation.account_id)
    return None
