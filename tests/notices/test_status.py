"""STATUS answers from the notices for the sender's service address."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.district import District
from accounts.models import Notice
from notices.lifecycle import close_notice
from notices.status import latest_status_for
from tests.notices.support import DANA, LINH, MARIA


def test_latest_status_for_a_number(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, district: District
) -> None:
    session, now = seeded, clock.now()
    dana = latest_status_for(
        session=session, phone="(530) 555-0101", now=now, language="en", district=district
    )
    assert "Oak Street" in dana and "Reply STATUS" in dana
    linh = latest_status_for(session=session, phone=LINH, now=now, language="en", district=district)
    assert "BOIL WATER" in linh
    maria = latest_status_for(
        session=session, phone=MARIA, now=now, language="es", district=district
    )
    assert maria.startswith("Valley Springs Water: no hay cortes")  # Maple Avenue is not hers
    robert = latest_status_for(
        session=session, phone="+15305550105", now=now, language="en", district=district
    )
    assert "no outage or notice for your address" in robert
    stranger = latest_status_for(
        session=session, phone="+15305550199", now=now, language="en", district=district
    )
    assert "could not match" in stranger and "Water main break on Oak Street" in stranger
    outage = session.scalars(select(Notice).where(Notice.kind == "unplanned_outage")).one()
    close_notice(session=session, notice=outage, now=now)
    later = now + timedelta(hours=1)
    restored = latest_status_for(
        session=session, phone=DANA, now=later, language="en", district=district
    )
    assert "ended today at" in restored
