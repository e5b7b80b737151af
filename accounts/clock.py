"""The one source of "now", so tests and demos can try after-hours and holidays."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time (aware datetimes in UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class PinnedClock:
    """Starts at a pinned instant and runs from there (``ASSISTANT_NOW``).

    Time keeps moving so that timeouts and re-pages still happen in a demo.
    """

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def clock_from(pinned: datetime | None) -> Clock:
    """The clock for a process: pinned when ``ASSISTANT_NOW`` is set."""
    return PinnedClock(pinned) if pinned is not None else SystemClock()


def as_utc(value: datetime) -> datetime:
    """Read a stored datetime as UTC (SQLite returns naive values)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
