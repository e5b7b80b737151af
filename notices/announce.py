"""Queue the messages that tell customers a notice was created, updated or closed.

An update or a closure first cancels the notice's messages still waiting in
the outbox (so nobody hears "water off" after "water restored"); a closure
sends a restoration message to everyone who was sent the notice. Messages are
only queued here; :func:`notices.dispatch.dispatch_due` sends them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.models import Notice, OutboundMessage
from accounts.settings import Settings
from accounts.sms_text import segment_count, split_message
from notices.copy import compose
from notices.lifecycle import NoticeError
from notices.recipients import (
    Candidate,
    affected_candidates,
    announced_before,
    earlier_recipients,
    select_recipients,
)
from notices.schedule import SendSlots, sender_key, sms_queue_tail

logger = logging.getLogger(__name__)

EVENTS = ("created", "updated", "closed")


@dataclass
class AnnounceReport:
    """What :func:`announce_notice` queued."""

    notice_id: int
    event: str
    recipients: int = 0
    sms_rows: int = 0
    email_rows: int = 0
    opted_out: int = 0
    no_contact: int = 0
    canceled: int = 0
    held: int = 0
    first_send_at: datetime | None = None
    last_send_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for the CLI and the CSR app)."""
        return {
            "notice_id": self.notice_id,
            "event": self.event,
            "recipients": self.recipients,
            "sms_rows": self.sms_rows,
            "email_rows": self.email_rows,
            "skipped_opted_out": self.opted_out,
            "skipped_no_contact": self.no_contact,
            "canceled_earlier": self.canceled,
            "held_for_quiet_hours": self.held,
            "first_send_at": self.first_send_at.isoformat() if self.first_send_at else None,
            "last_send_at": self.last_send_at.isoformat() if self.last_send_at else None,
        }


def announce_notice(
    *,
    session: Session,
    notice: Notice,
    event: str,
    now: datetime,
    calendar: BusinessCalendar,
    settings: Settings,
) -> AnnounceReport:
    """Queue the messages for a notice event (``created``, ``updated`` or ``closed``).

    Args:
        session: Database session; the caller commits.
        notice: The notice (already saved with its new state).
        event: What happened to it.
        now: The current instant.
        calendar: Quiet hours (district file) and the district's wording.
        settings: SMS rate (``twilio.sms_per_second``), sending number, email sender.

    Returns:
        Counts and the first and last scheduled send times.

    Raises:
        NoticeError: Unknown event.
    """
    if event not in EVENTS:
        raise NoticeError(f"unknown notice event {event!r}")
    district = calendar.district
    report = AnnounceReport(notice_id=notice.id, event=event)
    if event in ("updated", "closed"):
        # Superseded messages never go out: the newest word is the one that counts.
        result = session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.notice_id == notice.id,
                OutboundMessage.status == "queued",
                # Twilio also says "queued" for what it accepted: that has gone.
                OutboundMessage.sent_at.is_(None),
            )
            .values(status="canceled", last_error=f"superseded by notice {event}")
        )
        report.canceled = int(getattr(result, "rowcount", 0) or 0)
    announced = announced_before(session=session, notice_id=notice.id)
    earlier = earlier_recipients(session=session, notice_id=notice.id)
    if event == "closed" and announced:
        # Close the loop with the people who heard about it (nobody else needs to).
        candidates: list[Candidate] = []
    else:
        candidates = affected_candidates(session=session, notice=notice)
    selection = select_recipients(session=session, candidates=candidates, extra=earlier)
    report.recipients = len(selection.recipients)
    report.opted_out, report.no_contact = selection.opted_out, selection.no_contact
    safety = notice.safety and event != "closed"
    key = sender_key(settings)
    interval = timedelta(seconds=1.0 / settings.twilio.sms_per_second)
    sms_start = max(now, sms_queue_tail(session=session, key=key, interval=interval) or now)
    sms_slots = SendSlots(sms_start, interval, calendar, safety)
    # Email is not rate-limited by Twilio; it only respects quiet hours.
    email_slots = SendSlots(now, timedelta(0), calendar, safety)
    # (channel, language) -> subject and [(part, segments)]: one text per language.
    texts: dict[tuple[str, str], tuple[str, list[tuple[str, int]]]] = {}
    rows: list[dict[str, Any]] = []
    for recipient in selection.recipients:
        cache_key = (recipient.channel, recipient.language)
        if cache_key not in texts:
            subject, body = compose(
                notice=notice,
                event=event,
                language=recipient.language,
                channel=recipient.channel,
                district=district,
                now=now,
            )
            if recipient.channel == "sms":
                parts = [(part, segment_count(part)) for part in split_message(body)]
            else:
                parts = [(body, 1)]
            texts[cache_key] = (subject, parts)
        subject, parts = texts[cache_key]
        for index, (part, segments) in enumerate(parts):
            slots = sms_slots if recipient.channel == "sms" else email_slots
            slot, held = slots.take(segments)
            report.held += int(held and index == 0)
            rows.append(
                {
                    "channel": recipient.channel,
                    "purpose": "notice",
                    "to_address": recipient.address,
                    "from_address": key
                    if recipient.channel == "sms"
                    else settings.smtp.from_address,
                    "subject": subject,
                    "body": part,
                    "html_body": "",
                    "headers": {
                        "account_id": recipient.account_id,
                        "language": recipient.language,
                        "event": event,
                        "part": index + 1,
                        "parts": len(parts),
                    },
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": slot,
                    "not_before": slot if held else None,
                    "last_error": "",
                    "created_at": now,
                    "notice_id": notice.id,
                }
            )
            if recipient.channel == "sms":
                report.sms_rows += 1
            else:
                report.email_rows += 1
            if report.first_send_at is None or slot < report.first_send_at:
                report.first_send_at = slot
            if report.last_send_at is None or slot > report.last_send_at:
                report.last_send_at = slot
    if rows:
        # One multi-row INSERT per chunk: 10,000 recipients enqueue in seconds.
        for start in range(0, len(rows), 1000):
            session.execute(insert(OutboundMessage), rows[start : start + 1000])
    session.flush()
    logger.info(
        "notice %s %s: %s recipients queued (%s opted out, %s without contact)",
        notice.id,
        event,
        report.recipients,
        report.opted_out,
        report.no_contact,
    )
    return report
