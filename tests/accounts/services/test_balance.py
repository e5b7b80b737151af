from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.district import District
from accounts.models import Bill, Payment
from accounts.services.balance import balance_summary
from accounts.services.lookup import find_account_by_number


def test_delinquent_balance_names_the_latest_due_date(seeded: Session, clock: FixedClock,
                                                      district: District) -> None:
    today = clock.now().astimezone(district.tz).date()
    maria = find_account_by_number(session=seeded, number="1000822")
    assert maria is not None
    latest = max(seeded.scalars(select(Bill.due_date).where(Bill.account_id == maria.id)))
    summary = balance_summary(session=seeded, account=maria, today=today)
    assert summary.due_date == latest
    assert summary.past_due == Decimal("212.40") and summary.days_delinquent == 64


def test_payment_settles_oldest_bills_first(seeded: Session, clock: FixedClock,
                                            district: District) -> None:
    today = clock.now().astimezone(district.tz).date()
    maria = find_account_by_number(session=seeded, number="1000822")
    assert maria is not None
    seeded.add(Payment(account_id=maria.id, amount=Decimal("70.80"), method="cash",
                       posted_at=clock.now(), source_channel="office"))
    seeded.flush()
    summary = balance_summary(session=seeded, account=maria, today=today)
    assert summary.amount_due == Decimal("141.60")
    assert summary.days_delinquent == 34  # the oldest open bill is now the one due 34 days ago
    assert summary.last_payment_amount == Decimal("70.80")


def test_locked_off_restoration_amount_counts_credit(seeded: Session, clock: FixedClock,
                                                     district: District) -> None:
    today = clock.now().astimezone(district.tz).date()
    james = find_account_by_number(session=seeded, number="1001139")
    assert james is not None
    assert balance_summary(session=seeded, account=james,
                           today=today).amount_to_restore == Decimal("356.18")
    seeded.add(Payment(account_id=james.id, amount=Decimal("356.18"), method="card",
                       posted_at=clock.now(), source_channel="web"))
    seeded.flush()
    after = balance_summary(session=seeded, account=james, today=today)
    assert after.amount_due == Decimal("0.00") and after.amount_to_restore == Decimal("0.00")
