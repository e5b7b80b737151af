"""After-hours promises and the due times of tickets opened after hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.services.after_hours import after_hours_message, follow_up_message, is_after_hours
from accounts.services.conversations import get_or_open_conversation
from accounts.services.tickets import open_ticket


def local(calendar: BusinessCalendar, *args: int) -> datetime:
    return datetime(*args, tzinfo=calendar.tz).astimezone(UTC)


def test_friday_evening_promises_monday_morning(calendar: BusinessCalendar) -> None:
    friday_evening = local(calendar, 2026, 12, 4, 18, 30)
    assert is_after_hours(calendar, friday_evening)
    text = after_hours_message(calendar, friday_evening, "en")
    assert text.startswith("Our office is closed right now (open Monday to Friday, 8 AM to 5 PM).")
    assert "A representative will contact you by 9 AM Monday." in text
    assert "(530) 555-0100" in text
    spanish = after_hours_message(calendar, friday_evening, "es")
    assert "Un representante se comunicará con usted el lunes a las 9 a. m." in spanish
    assert "cerrada" in spanish


def test_thanksgiving_names_the_holiday_and_skips_the_day_after(
    calendar: BusinessCalendar,
) -> None:
    thanksgiving = local(calendar, 2026, 11, 26, 10, 0)  # Thursday, office would be open
    text = after_hours_message(calendar, thanksgiving, "en", emergency=False)
    assert text == (
        "Our office is closed today for Thanksgiving Day. "
        "A representative will contact you by 9 AM Monday."
    )


def test_in_office_hours_only_the_follow_up_promise(calendar: BusinessCalendar) -> None:
    tuesday = local(calendar, 2026, 11, 24, 10, 0)
    assert not is_after_hours(calendar, tuesday)
    assert (
        after_hours_message(calendar, tuesday)
        == "A representative will contact you by 11 AM today."
    )
    assert after_hours_message(calendar, tuesday) == follow_up_message(calendar, tuesday)


def test_night_before_a_workday_promises_tomorrow_across_dst(calendar: BusinessCalendar) -> None:
    # Sunday 2026-03-08 is the spring-forward day; Monday opens at 8 AM PDT.
    sunday_night = local(calendar, 2026, 3, 8, 23, 0)
    assert "by 9 AM tomorrow" in after_hours_message(calendar, sunday_night)


@pytest.mark.parametrize(
    ("created", "intent", "due"),
    [
        # Friday 6:30 PM, CSR I normal work (8 business hours): Monday 4 PM.
        ((2026, 12, 4, 18, 30), "callback", (2026, 12, 7, 16, 0)),
        # Saturday, a restoration request (CSR II, high: 4 business hours): Monday noon.
        ((2026, 12, 5, 11, 0), "service_restoration", (2026, 12, 7, 12, 0)),
        # Wednesday before Thanksgiving at 4:30 PM: 30 minutes that day, the rest Monday.
        ((2026, 11, 25, 16, 30), "service_restoration", (2026, 11, 30, 11, 30)),
    ],
)
def test_tickets_opened_after_hours_are_due_in_business_hours(
    session: Session,
    calendar: BusinessCalendar,
    created: tuple[int, ...],
    intent: str,
    due: tuple[int, ...],
) -> None:
    now = local(calendar, *created)
    conversation, _ = get_or_open_conversation(
        session=session,
        channel="sms",
        external_id="+15305550199",
        now=now,
        customer_address="+15305550199",
    )
    ticket = open_ticket(
        session=session,
        calendar=calendar,
        intent=intent,
        channel="sms",
        summary="Customer asked for a call back",
        now=now,
        conversation=conversation,
    )
    session.commit()
    session.refresh(ticket)
    assert ticket.due_at == local(calendar, *due)
    # The promise the customer hears is never later than the due time.
    promised = calendar.follow_up_by(now)
    assert promised <= ticket.due_at


def test_emergency_ticket_after_hours_is_due_within_minutes(
    session: Session, calendar: BusinessCalendar
) -> None:
    now = local(calendar, 2026, 12, 5, 2, 10)  # Saturday 2:10 AM
    ticket = open_ticket(
        session=session,
        calendar=calendar,
        intent="report_emergency",
        channel="voice",
        summary="Sewer overflow",
        now=now,
    )
    session.commit()
    session.refresh(ticket)
    assert ticket.priority == 0
    assert ticket.due_at == local(calendar, 2026, 12, 5, 2, 40)
