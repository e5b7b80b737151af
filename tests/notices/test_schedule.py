"""When notice messages go: quiet hours, safety notices, pacing per sending number."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.settings import Settings
from accounts.sms_text import segment_count
from tests.notices.support import announce, local, new_notice, rows_of


def test_quiet_hours_hold_non_safety_until_morning(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session = seeded
    now = local(calendar, 2026, 11, 24, 22, 30)  # Tuesday 10:30 PM
    notice = new_notice(session, now, zones=["North"])
    report = announce(session, notice, "created", now, calendar, settings)
    morning = local(calendar, 2026, 11, 25, 8, 0)
    rows = rows_of(session, notice)
    assert rows and report.held == report.recipients
    assert all(r.next_attempt_at >= morning and r.not_before is not None for r in rows)
    assert min(r.next_attempt_at for r in rows) == morning
    assert report.first_send_at == morning


def test_safety_notices_go_at_once_even_at_night(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session = seeded
    now = local(calendar, 2026, 11, 24, 23, 45)
    notice = new_notice(
        session, now, kind="boil_water", zones=["South"], safety=True, estimated_restoration_at=None
    )
    report = announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    assert report.held == 0 and report.first_send_at == now
    sms = sorted((r for r in rows if r.channel == "sms"), key=lambda r: r.next_attempt_at)
    # Paced, but not held: the whole batch goes out within seconds, before dawn.
    assert sms[-1].next_attempt_at < now + timedelta(minutes=5)
    assert all(r.not_before is None or r.not_before <= r.next_attempt_at for r in rows)


def test_sms_schedule_is_paced_per_sending_number(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    paced = settings.model_copy(
        update={"twilio": settings.twilio.model_copy(update={"sms_per_second": 2.0})}
    )
    first = new_notice(session, now, zones=["North", "South"])
    announce(session, first, "created", now, calendar, paced)
    sms = [r for r in rows_of(session, first) if r.channel == "sms"]
    sms.sort(key=lambda r: r.next_attempt_at)
    assert len(sms) > 10
    for before, after in itertools.pairwise(sms):
        gap = (after.next_attempt_at - before.next_attempt_at).total_seconds()
        assert gap == pytest.approx(0.5 * segment_count(before.body))
    # A second notice queues behind the first on the same number.
    second = new_notice(session, now, zones=["West"], title="West outage")
    announce(session, second, "created", now, calendar, paced)
    second_sms = sorted(
        (r for r in rows_of(session, second) if r.channel == "sms"), key=lambda r: r.next_attempt_at
    )
    assert second_sms[0].next_attempt_at >= sms[-1].next_attempt_at + timedelta(seconds=0.5)
    # Emails are not held behind the SMS rate.
    emails = [r for r in rows_of(session, first) if r.channel == "email"]
    assert all(r.next_attempt_at == now for r in emails)


def test_a_long_batch_stops_at_quiet_hours_and_resumes_in_the_morning(
    seeded: Session, calendar: BusinessCalendar, settings: Settings
) -> None:
    session = seeded
    now = local(calendar, 2026, 11, 24, 20, 59, 50)  # ten seconds before quiet hours
    notice = new_notice(session, now, zones=["North", "South", "East", "West", "Central"])
    report = announce(session, notice, "created", now, calendar, settings)
    sms = sorted(
        (r for r in rows_of(session, notice) if r.channel == "sms"), key=lambda r: r.next_attempt_at
    )
    quiet = local(calendar, 2026, 11, 24, 21, 0)
    morning = local(calendar, 2026, 11, 25, 8, 0)
    before = [r for r in sms if r.next_attempt_at < quiet]
    after = [r for r in sms if r.next_attempt_at >= quiet]
    assert 1 <= len(before) <= 10 and after
    assert all(r.next_attempt_at >= morning for r in after)
    assert after[0].next_attempt_at == morning
    assert 0 < report.held < report.recipients
