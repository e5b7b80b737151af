"""Announcing an update or a closure: what waits is cancelled, the loop is closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.settings import Settings
from notices.dispatch import dispatch_due
from notices.lifecycle import NoticeError, close_notice, update_notice
from tests.notices.support import announce, local, new_notice, real_sender, rows_of
from tests.utils.twilio_server import TwilioRecorder


async def test_update_cancels_what_waits_and_closing_restores_the_loop(
    seeded: Session,
    calendar: BusinessCalendar,
    settings: Settings,
    api: TwilioRecorder,
    clock: FixedClock,
) -> None:
    session = seeded
    evening = local(calendar, 2026, 11, 24, 18, 0)
    clock.set(evening)
    notice = new_notice(session, evening, zones=["West"], title="West outage")
    first = announce(session, notice, "created", evening, calendar, settings)
    sender = real_sender(settings, api, clock)
    report = await dispatch_due(
        session=session, now=evening + timedelta(hours=1), sms=sender, email=None, limit=10_000
    )
    told = {r.to_address for r in rows_of(session, notice) if r.sent_at is not None}
    assert report.sent == first.sms_rows and told

    # Update at 22:00: the update waits until 8 AM...
    night = local(calendar, 2026, 11, 24, 22, 0)
    update_notice(
        session=session,
        notice=notice,
        now=night,
        estimated_restoration_at=night + timedelta(hours=12),
    )
    update = announce(session, notice, "updated", night, calendar, settings)
    assert update.held == update.recipients
    # ...and the email rows still queued from the first announcement were cancelled.
    assert update.canceled == first.email_rows
    # Closed at 2 AM: the waiting update is cancelled; the restoration goes to those told.
    late = local(calendar, 2026, 11, 25, 2, 0)
    close_notice(session=session, notice=notice, now=late)
    closing = announce(session, notice, "closed", late, calendar, settings)
    assert closing.canceled == update.sms_rows + update.email_rows
    restoration = [r for r in rows_of(session, notice) if r.headers["event"] == "closed"]
    assert {r.to_address for r in restoration} == told
    assert all(
        "restored" in r.body
        for r in restoration
        if r.headers["part"] == 1 and r.headers["language"] == "en"
    )
    assert min(r.next_attempt_at for r in restoration) == local(calendar, 2026, 11, 25, 8, 0)
    with pytest.raises(NoticeError):
        close_notice(session=session, notice=notice, now=late)
