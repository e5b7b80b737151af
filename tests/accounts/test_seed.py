"""The demo district holds the personas of demo-personas.yml exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.district import District
from accounts.models import Account, Bill, CsrUser, Notice, OnCallShift, Payment
from accounts.passwords import verify_password
from accounts.seed import SeedRefused, seed_demo
from accounts.services.balance import balance_summary
from accounts.services.lookup import find_account_by_number, find_accounts_by_phone
from accounts.services.notices import notices_for_account

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract" / "demo-personas.yml"


@pytest.fixture(scope="module")
def contract() -> dict:
    return yaml.safe_load(CONTRACT.read_text())


def _today(clock: FixedClock, district: District) -> date:
    return clock.now().astimezone(district.tz).date()


def test_personas_exist_with_contract_data(seeded: Session, contract: dict, clock: FixedClock,
                                           district: District) -> None:
    today = _today(clock, district)
    for persona in contract["personas"]:
        account = find_account_by_number(session=seeded, number=persona["account"])
        assert account is not None, persona["name"]
        assert account.customer.name == persona["name"]
        assert account.service_address == persona["service_address"]
        assert account.zip == persona["zip"]
        assert account.zone == persona["zone"]
        assert account.status == persona["status"]
        assert account.customer.language == persona.get("language", "en")
        assert account.autopay == persona.get("autopay", False)
        assert account.paperless == persona.get("paperless", False)
        assert [a.number for a in find_accounts_by_phone(session=seeded, phone=persona["phone"])] \
            == [persona["account"]]
        summary = balance_summary(session=seeded, account=account, today=today)
        assert summary.amount_due == Decimal(persona["balance_due"])
        if "due_in_days" in persona:
            assert summary.due_date == today + timedelta(days=persona["due_in_days"])
            assert summary.past_due == Decimal("0.00")
        if "past_due" in persona:
            assert summary.past_due == Decimal(persona["past_due"])
            assert summary.days_delinquent == persona["days_delinquent"]
        if "last_payment" in persona:
            last = persona["last_payment"]
            assert summary.last_payment_amount == Decimal(last["amount"])
            assert summary.last_payment_method == last["method"]
            assert summary.last_payment_at is not None
            paid_on = summary.last_payment_at.astimezone(district.tz).date()
            assert paid_on == today - timedelta(days=last["days_ago"])
        if "amount_to_restore" in persona:
            assert summary.reconnection_fee == Decimal(persona["reconnection_fee"])
            assert summary.amount_to_restore == Decimal(persona["amount_to_restore"])


def test_unknown_caller_is_on_no_account(seeded: Session, contract: dict) -> None:
    assert find_accounts_by_phone(session=seeded, phone=contract["unknown_caller"]) == []


def test_events_affect_the_right_personas(seeded: Session, clock: FixedClock) -> None:
    now = clock.now()

    def kinds(number: str) -> set[str]:
        account = find_account_by_number(session=seeded, number=number)
        assert account is not None
        return {n.kind for n in notices_for_account(session=seeded, account=account, now=now)}

    assert kinds("1000417") == {"unplanned_outage"}  # Dana, 512 Oak Street
    assert kinds("1001560") == {"boil_water"}  # Linh, South zone
    assert kinds("1002001") == set()  # Robert, West
    outage = seeded.scalars(select(Notice).where(Notice.kind == "unplanned_outage")).one()
    assert outage.starts_at == now - timedelta(hours=2)
    assert outage.estimated_restoration_at == now + timedelta(hours=3)
    planned = seeded.scalars(select(Notice).where(Notice.kind == "planned_work")).one()
    assert planned.starts_at.astimezone(ZoneInfo("America/Los_Angeles")).weekday() == 1


def test_staff_and_on_call(seeded: Session, contract: dict) -> None:
    users = {u.username: u for u in seeded.scalars(select(CsrUser))}
    for spec in contract["csr_users"]:
        user = users[spec["username"]]
        assert user.level == spec["level"]
        assert user.is_demo
        assert verify_password(user.password_hash, "district-demo")
        assert not verify_password(user.password_hash, "wrong")
    shifts = seeded.scalars(select(OnCallShift).order_by(OnCallShift.role.desc())).all()
    assert [(s.name, s.phone, s.role) for s in shifts] == [
        (p["name"], p["phone"], p["role"]) for p in contract["on_call"]
    ]


def test_generated_accounts_vary(seeded: Session) -> None:
    rows = seeded.execute(select(Account.status, func.count()).group_by(Account.status)).all()
    statuses = {status: count for status, count in rows}
    assert statuses["active"] > 30
    zones = seeded.scalars(select(Account.zone).distinct()).all()
    assert len(zones) >= 4


def _snapshot(session: Session) -> list[tuple]:
    accounts = session.execute(select(Account.number, Account.service_address, Account.status)
                               .order_by(Account.number)).all()
    bills = session.execute(select(Bill.amount, Bill.due_date).order_by(Bill.id)).all()
    payments = session.execute(select(Payment.amount, Payment.posted_at).order_by(Payment.id)).all()
    return [tuple(accounts), tuple(bills), tuple(payments)]


def test_seeding_is_deterministic(session: Session, clock: FixedClock) -> None:
    today = date(2026, 11, 24)
    seed_demo(session=session, today=today, anchor=clock.now(), generated=30)
    first = _snapshot(session)
    seed_demo(session=session, today=today, anchor=clock.now(), generated=30, replace=True)
    assert _snapshot(session) == first


def test_seeding_twice_is_a_no_op_and_real_data_is_refused(session: Session,
                                                          clock: FixedClock) -> None:
    today = date(2026, 11, 24)
    seed_demo(session=session, today=today, anchor=clock.now(), generated=5)
    again = seed_demo(session=session, today=today, anchor=clock.now(), generated=5)
    assert again.skipped
    # A database with real (non-demo) data is refused.
    session.execute(CsrUser.__table__.update().values(is_demo=False))
    with pytest.raises(SeedRefused):
        seed_demo(session=session, today=today, anchor=clock.now(), generated=5)
