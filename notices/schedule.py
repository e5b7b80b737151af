"""When each notice message may go: paced per sending number, held out of quiet hours.

SMS is paced per sending number at ``TWILIO_SMS_PER_SECOND`` segments a second,
after whatever that number has queued already; non-safety messages whose slot
falls in the district's quiet hours (21:00–08:00) move to the end of the quiet
hours; safety notices are never held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import as_utc
from accounts.models import OutboundMessage
from accounts.settings import Settings


def sender_key(settings: Settings) -> str:
    """The sending number pacing is counted per (same rule as the outbound SMS sender)."""
    return settings.twilio.messaging_service_sid or settings.twilio.from_number


def sms_queue_tail(*, session: Session, key: str, interval: timedelta) -> datetime | None:
    """When the sending number is free after what it has queued already."""
    latest = session.scalar(
        select(func.max(OutboundMessage.next_attempt_at)).where(
            OutboundMessage.channel == "sms",
            OutboundMessage.status == "queued",
            OutboundMessage.sent_at.is_(None),
            OutboundMessage.from_address == key,
        )
    )
    return as_utc(latest) + interval if latest is not None else None


class SendSlots:
    """Hands out send times: paced per segment, moved out of quiet hours unless safety."""

    def __init__(
        self, start: datetime, interval: timedelta, calendar: BusinessCalendar, safety: bool
    ) -> None:
        self.cursor = start
        self.interval = interval
        self.calendar = calendar
        self.safety = safety
        self.held = False

    def take(self, segments: int) -> tuple[datetime, bool]:
        """The next send time and whether quiet hours held it (then and for the rest)."""
        if not self.safety and self.calendar.in_quiet_hours(self.cursor):
            self.cursor = self.calendar.quiet_hours_end(self.cursor)
            self.held = True
        slot = self.cursor
        self.cursor = slot + self.interval * max(segments, 1)
        return slot, self.held
