from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import ContactLog
from accounts.services.contacts import link_conversation_to_account
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_account_by_number
from accounts.services.tickets import open_ticket


def test_ticket_hands_off_and_is_logged(seeded: Session, clock: FixedClock,
                                        calendar: BusinessCalendar) -> None:
    conversation, _ = get_or_open_conversation(session=seeded, channel="sms",
                                               external_id="+15305550105", now=clock.now())
    account = find_account_by_number(session=seeded, number="1002001")
    link_conversation_to_account(session=seeded, conversation=conversation, account=account)
    ticket = open_ticket(session=seeded, calendar=calendar, intent="billing_dispute",
                         channel="sms", summary="Bill is four times usual", now=clock.now(),
                         conversation=conversation)
    assert ticket.level == "II" and ticket.account_id == account.id
    assert conversation.status == "handed_off"
    assert ticket.due_at > clock.now()
    entries = seeded.scalars(select(ContactLog).where(ContactLog.ticket_id == ticket.id)).all()
    assert [e.kind for e in entries] == ["escalation"]


def test_after_hours_ticket_is_due_in_business_hours(seeded: Session,
                                                     calendar: BusinessCalendar) -> None:
    friday_night = datetime(2026, 12, 5, 5, 0, tzinfo=UTC)  # Fri 21:00 in California
    ticket = open_ticket(session=seeded, calendar=calendar, intent="human_agent",
                         channel="sms", summary="call me back", now=friday_night)
    local_due = ticket.due_at.astimezone(calendar.tz)
    assert local_due.weekday() == 0  # Monday
    emergency = open_ticket(session=seeded, calendar=calendar, intent="report_emergency",
                            channel="voice", summary="main break", now=friday_night)
    assert emergency.priority == 0
    assert emergency.due_at - friday_night <= timedelta(hours=1)
