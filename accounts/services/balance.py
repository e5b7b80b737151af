"""What a customer owes: amount due, due date, last payment, past due, delinquency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Account, Adjustment, Bill, Payment

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class BalanceSummary:
    """Tier-1 facts about an account's balance."""

    account_number: str
    status: str
    amount_due: Decimal
    due_date: date | None
    past_due: Decimal
    days_delinquent: int
    last_payment_amount: Decimal | None
    last_payment_at: datetime | None
    last_payment_method: str | None
    autopay: bool
    locked_off: bool
    reconnection_fee: Decimal
    amount_to_restore: Decimal

    def as_json(self) -> dict[str, object]:
        """A JSON-safe dict (amounts as strings, dates ISO)."""
        return {
            "account_number": self.account_number,
            "status": self.status,
            "amount_due": str(self.amount_due),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "past_due": str(self.past_due),
            "days_delinquent": self.days_delinquent,
            "last_payment_amount": (
                str(self.last_payment_amount) if self.last_payment_amount is not None else None
            ),
            "last_payment_at": self.last_payment_at.isoformat() if self.last_payment_at else None,
            "last_payment_method": self.last_payment_method,
            "autopay": self.autopay,
            "locked_off": self.locked_off,
            "reconnection_fee": str(self.reconnection_fee),
            "amount_to_restore": str(self.amount_to_restore),
        }


def balance_summary(*, session: Session, account: Account, today: date) -> BalanceSummary:
    """The account's balance on ``today`` (district-local date).

    Payments and credits settle the oldest bills first; what remains of bills
    whose due date has passed is past due, and the oldest such bill sets the
    days delinquent (SB 998 counts from there).
    """
    bills = session.scalars(
        select(Bill).where(Bill.account_id == account.id).order_by(Bill.due_date)
    ).all()
    payments = session.scalars(
        select(Payment).where(Payment.account_id == account.id).order_by(Payment.posted_at)
    ).all()
    adjusted = session.scalar(
        select(func.coalesce(func.sum(Adjustment.amount), 0)).where(
            Adjustment.account_id == account.id
        )
    )
    paid = sum((payment.amount for payment in payments), ZERO)
    credit = Decimal(paid or 0) - Decimal(adjusted or 0)
    billed = sum((bill.amount for bill in bills), ZERO)
    amount_due = max(billed - credit, ZERO).quantize(Decimal("0.01"))

    past_due = ZERO
    oldest_unpaid_due: date | None = None
    latest_unpaid_due: date | None = None
    remaining_credit = credit
    for bill in bills:
        open_amount = bill.amount - min(remaining_credit, bill.amount)
        remaining_credit = max(remaining_credit - bill.amount, ZERO)
        if open_amount <= ZERO:
            continue
        latest_unpaid_due = bill.due_date
        if bill.due_date < today:
            past_due += open_amount
            oldest_unpaid_due = oldest_unpaid_due or bill.due_date
    if amount_due == ZERO:
        past_due = ZERO
    last = payments[-1] if payments else None
    locked_off = account.status == "locked-off"
    return BalanceSummary(
        account_number=account.number,
        status=account.status,
        amount_due=amount_due,
        # The latest bill's due date; what is older shows as past due and days delinquent.
        due_date=latest_unpaid_due,
        past_due=past_due.quantize(Decimal("0.01")),
        days_delinquent=(today - oldest_unpaid_due).days if oldest_unpaid_due else 0,
        last_payment_amount=last.amount if last else None,
        last_payment_at=last.posted_at if last else None,
        last_payment_method=last.method if last else None,
        autopay=account.autopay,
        locked_off=locked_off,
        reconnection_fee=account.reconnection_fee if locked_off else ZERO,
        # What restores service: the balance and the fee, less any credit already paid.
        amount_to_restore=(
            max(billed - credit + account.reconnection_fee, ZERO).quantize(Decimal("0.01"))
            if locked_off
            else ZERO
        ),
    )
