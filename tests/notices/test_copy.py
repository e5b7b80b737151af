"""What a notice says: each customer gets their language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import Account
from accounts.settings import Settings
from notices.lifecycle import parse_street
from tests.notices.support import MARIA, announce, new_notice, rows_of


def test_each_customer_gets_their_language(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    notice = new_notice(
        session,
        now,
        kind="planned_work",
        zones=["East"],
        title="Valve work on Cedar Court",
        streets=[parse_street("Cedar Court")],
    )
    announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    maria = [r for r in rows if r.to_address == MARIA]
    assert maria and "Trabajo programado" in maria[0].body and "Responda STATUS" in maria[0].body
    for row in rows:
        account = session.get(Account, row.headers["account_id"])
        expected = "es" if account.customer.language == "es" else "en"
        assert row.headers["language"] == expected
        if row.headers["part"] == 1:
            assert ("Trabajo programado" in row.body) == (expected == "es")
