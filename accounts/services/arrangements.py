"""Payment arrangements the assistant may offer within the district's policy (SB 998).

The district file sets the limits (longest extension, longest installment
plan); this module turns them into concrete options for one account and
records the one the customer picks. Anything else (longer plans, reduced
payments, disputes about the amount) is a CSR II's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.district import Arrangements
from accounts.errors import CustomerError
from accounts.models import Account, PaymentArrangement
from accounts.services.balance import BalanceSummary

# Plans shorter than the district's longest one, offered when they fit.
_SHORT_PLAN_MONTHS = 3
# Below this amount a long plan makes installments too small to be worth it.
_LONG_PLAN_MINIMUM = Decimal("100.00")


class OptionNotOffered(CustomerError):
    """The chosen option is not (or no longer) among the account's options."""


@dataclass(frozen=True)
class ArrangementOffer:
    """What may be offered to one account now."""

    eligible: bool
    reason: str
    amount_due: Decimal
    sb998: bool
    options: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """JSON-safe (amounts as strings)."""
        return {
            "eligible": self.eligible,
            "reason": self.reason,
            "amount_due": str(self.amount_due),
            "sb998": self.sb998,
            "options": self.options,
        }


def active_arrangement(*, session: Session, account: Account) -> PaymentArrangement | None:
    """The account's arrangement in force, if any."""
    statement = select(PaymentArrangement).where(
        PaymentArrangement.account_id == account.id, PaymentArrangement.status == "active"
    )
    return session.scalars(statement).first()


def _installment(total: Decimal, months: int) -> Decimal:
    return (total / months).quantize(Decimal("0.01"), rounding=ROUND_UP)


def arrangement_offer(
    *,
    session: Session,
    account: Account,
    balance: BalanceSummary,
    policy: Arrangements,
    today: date,
) -> ArrangementOffer:
    """The extension and installment plans the assistant may offer this account."""
    amount = balance.amount_due
    sb998 = balance.past_due > 0
    if amount <= 0:
        return ArrangementOffer(False, "no_balance", amount, sb998)
    if active_arrangement(session=session, account=account) is not None:
        return ArrangementOffer(False, "active_arrangement", amount, sb998)
    first_due = balance.due_date if balance.due_date and balance.due_date > today else (
        today + timedelta(days=30)
    )
    options: list[dict[str, Any]] = [
        {
            "id": f"extension-{policy.extension_max_days}",
            "kind": "extension",
            "days": policy.extension_max_days,
            "pay_by": (today + timedelta(days=policy.extension_max_days)).isoformat(),
            "amount": str(amount),
            "keywords": ["extension", "extend", "more time", "prórroga", "prorroga", "más tiempo"],
        }
    ]
    plan_months = sorted(
        {min(_SHORT_PLAN_MONTHS, policy.installment_max_months)}
        | ({policy.installment_max_months} if amount >= _LONG_PLAN_MINIMUM else set())
    )
    for months in plan_months:
        if months < 2:
            continue
        options.append(
            {
                "id": f"installments-{months}",
                "kind": "installments",
                "months": months,
                "installment_amount": str(_installment(amount, months)),
                "first_due": first_due.isoformat(),
                "amount": str(amount),
                "keywords": [f"{months} months", f"{months} meses"]
                + (["plan", "installments", "pagos"] if months == plan_months[0] else []),
            }
        )
    return ArrangementOffer(True, "", amount, sb998, options)


def record_arrangement(
    *,
    session: Session,
    account: Account,
    offer: ArrangementOffer,
    option_id: str,
    now: datetime,
    source_channel: str,
) -> tuple[PaymentArrangement, dict[str, Any]]:
    """Record the chosen option on the account; returns the row and the option.

    Raises:
        OptionNotOffered: ``option_id`` is not among ``offer``'s options.
    """
    option = next((o for o in offer.options if o["id"] == option_id), None)
    if option is None:
        raise OptionNotOffered(option_id)
    terms = {key: value for key, value in option.items() if key not in ("keywords", "amount")}
    arrangement = PaymentArrangement(
        account_id=account.id,
        kind="extension" if option["kind"] == "extension" else "installment",
        status="active",
        amount=offer.amount_due,
        terms=terms,
        created_at=now,
        source_channel=source_channel,
    )
    session.add(arrangement)
    session.flush()
    return arrangement, option
