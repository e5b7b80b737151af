"""Supervisor figures: queue depth, past due, containment, escalation reasons, volume."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Conversation, Ticket
from accounts.services.tickets import OPEN_STATUSES
from escalation.routing import LEVELS

CHANNEL_ORDER = ("voice", "sms", "email", "web", "system")


@dataclass
class SupervisorReport:
    """Everything on the supervisor page, for a window ending ``now``."""

    now: datetime
    since: datetime
    depth: dict[str, dict[str, int]]
    past_due: int
    past_due_by_level: dict[str, int]
    conversations: int
    contained: int
    reasons: list[tuple[str, int]]
    volume: dict[str, list[int]] = field(default_factory=dict)

    @property
    def containment_rate(self) -> float | None:
        """Share of conversations the bot finished without a person (None when none)."""
        return self.contained / self.conversations if self.conversations else None

    @property
    def max_depth(self) -> int:
        """The largest level total (chart scale)."""
        return max((sum(v.values()) for v in self.depth.values()), default=0)

    @property
    def max_hourly(self) -> int:
        """The busiest channel-hour (chart scale)."""
        return max((max(hours) for hours in self.volume.values() if hours), default=0)

    @property
    def max_reason(self) -> int:
        """The most common reason's count (chart scale)."""
        return max((count for _, count in self.reasons), default=0)

    def to_csv(self) -> str:
        """The figures as ``section,key,value`` rows."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["section", "key", "value"])
        writer.writerow(["window", "since", self.since.isoformat()])
        writer.writerow(["window", "until", self.now.isoformat()])
        for level, counts in self.depth.items():
            for status, count in counts.items():
                writer.writerow(["queue_depth", f"{level}:{status}", count])
        writer.writerow(["past_due", "total", self.past_due])
        for level, count in self.past_due_by_level.items():
            writer.writerow(["past_due", level, count])
        writer.writerow(["containment", "conversations", self.conversations])
        writer.writerow(["containment", "contained", self.contained])
        rate = self.containment_rate
        writer.writerow(["containment", "rate", "" if rate is None else f"{rate:.4f}"])
        for reason, count in self.reasons:
            # A leading =, +, - or @ would be a formula in a spreadsheet.
            safe = f"'{reason}" if reason[:1] in ("=", "+", "-", "@") else reason
            writer.writerow(["escalation_reason", safe, count])
        for channel, hours in self.volume.items():
            for hour, count in enumerate(hours):
                writer.writerow(["volume", f"{channel}:{hour:02d}", count])
        return out.getvalue()


def supervisor_report(
    *, session: Session, now: datetime, tz: ZoneInfo, days: int = 7
) -> SupervisorReport:
    """Compute the supervisor figures for the last ``days`` days (hours in ``tz``)."""
    since = now - timedelta(days=days)
    depth: dict[str, dict[str, int]] = {
        level: {status: 0 for status in OPEN_STATUSES} for level in LEVELS
    }
    for level, status, count in session.execute(
        select(Ticket.level, Ticket.status, func.count(Ticket.id))
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.level, Ticket.status)
    ):
        depth.setdefault(level, {s: 0 for s in OPEN_STATUSES})[status] = int(count)
    past_due_by_level = {level: 0 for level in LEVELS}
    for level, count in session.execute(
        select(Ticket.level, func.count(Ticket.id))
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < now)
        .group_by(Ticket.level)
    ):
        past_due_by_level[level] = int(count)
    conversations = int(
        session.scalar(select(func.count(Conversation.id)).where(Conversation.started_at >= since))
        or 0
    )
    escalated = int(
        session.scalar(
            select(func.count(func.distinct(Ticket.conversation_id))).where(
                Ticket.conversation_id.in_(
                    select(Conversation.id).where(Conversation.started_at >= since)
                )
            )
        )
        or 0
    )
    reasons = [
        (str(intent), int(count))
        for intent, count in session.execute(
            select(Ticket.intent, func.count(Ticket.id))
            .where(Ticket.created_at >= since)
            .group_by(Ticket.intent)
            .order_by(func.count(Ticket.id).desc(), Ticket.intent)
        )
    ]
    volume: dict[str, list[int]] = {}
    for channel, started_at in session.execute(
        select(Conversation.channel, Conversation.started_at).where(
            Conversation.started_at >= since
        )
    ):
        hours = volume.setdefault(str(channel), [0] * 24)
        hours[started_at.astimezone(tz).hour] += 1
    ordered = {c: volume[c] for c in CHANNEL_ORDER if c in volume}
    ordered.update({c: v for c, v in volume.items() if c not in ordered})
    return SupervisorReport(
        now=now,
        since=since,
        depth=depth,
        past_due=sum(past_due_by_level.values()),
        past_due_by_level=past_due_by_level,
        conversations=conversations,
        contained=max(conversations - escalated, 0),
        reasons=reasons,
        volume=ordered,
    )
