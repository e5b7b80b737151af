"""Who hears about a notice: its street block, opt-outs, undeliverable contacts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import Account, ContactPoint
from accounts.services.consent import record_opt_out
from accounts.settings import Settings
from notices.lifecycle import parse_street
from tests.notices.support import DANA, LINH, announce, new_notice, rows_of


def expected_customers(
    session: Session, zone: str, street: str | None = None, low: int = 0, high: int = 10**6
) -> set[int]:
    """Customers affected, computed straight from the accounts table."""
    accounts = session.scalars(
        select(Account).where(Account.zone == zone, Account.status != "closed")
    ).all()
    return {
        a.customer_id
        for a in accounts
        if street is None or (a.street_name == street and low <= (a.street_number or 0) <= high)
    }


def test_outage_reaches_its_street_block_only(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    notice = new_notice(
        session, now, streets=[parse_street("Oak Street:400-700")], title="Main break on Oak Street"
    )
    report = announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    account_ids = {r.headers["account_id"] for r in rows}
    customers = {session.get(Account, a).customer_id for a in account_ids}
    assert customers == expected_customers(session, "North", "Oak Street", 400, 700)
    assert report.recipients == len(customers) and report.recipients >= 1
    dana = [r for r in rows if r.to_address == DANA]
    assert len(dana) >= 1 and dana[0].channel == "sms" and dana[0].purpose == "notice"
    assert "Reply STATUS" in dana[0].body and "Outage:" in dana[0].body
    assert all(r.status == "queued" for r in rows)
    # Nobody from Birch Lane (James Okafor) or another zone.
    assert "+15305550103" not in {r.to_address for r in rows}


def test_opted_out_addresses_never_get_a_message(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    south = session.scalars(
        select(Account).where(Account.zone == "South").order_by(Account.id)
    ).all()
    # Linh stops texts (she has email too); another customer stops everything.
    record_opt_out(session=session, address=LINH, channel="sms", now=now, via="test")
    other = next(a for a in south if a.number != "1001560")
    for point in other.customer.contact_points:
        channel = "sms" if point.kind == "phone" else "email"
        record_opt_out(session=session, address=point.value, channel=channel, now=now, via="t")
    notice = new_notice(
        session,
        now,
        kind="boil_water",
        zones=["South"],
        safety=True,
        title="Boil water",
        estimated_restoration_at=None,
    )
    report = announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    addresses = {(r.channel, r.to_address) for r in rows}
    assert ("sms", LINH) not in addresses
    assert ("email", "linh.tran@example.com") in addresses  # her email consent is separate
    other_points = {p.value for p in other.customer.contact_points}
    assert not other_points & {r.to_address for r in rows}
    assert report.opted_out == 1
    blocked = {"sms": {LINH}, "email": set()}
    for point in other.customer.contact_points:
        blocked["sms" if point.kind == "phone" else "email"].add(point.value)
    assert not any(r.to_address in blocked[r.channel] for r in rows)
    assert "BOIL WATER NOTICE" in rows[0].body


def test_undeliverable_contacts_are_skipped(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    point = session.scalars(select(ContactPoint).where(ContactPoint.value == DANA)).one()
    point.undeliverable = True
    notice = new_notice(session, now, streets=[parse_street("Oak Street:400-700")])
    announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    assert DANA not in {r.to_address for r in rows}
    assert "dana.whitfield@example.com" in {r.to_address for r in rows}
