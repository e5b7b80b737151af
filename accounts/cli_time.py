"""Date-times on staff command lines: typed in district wall-clock time, printed back in it.

Both the on-call roster commands and the notice commands read times this way;
times without an offset are the district's local time.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, tzinfo


def parse_instant(value: str, *, tz: tzinfo) -> datetime:
    """An ISO date-time typed by staff, as UTC; without an offset it is read in ``tz``.

    Raises:
        argparse.ArgumentTypeError: Not an ISO date-time (the command reports it
            as a usage error, without a traceback).
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def local_text(value: datetime | None, *, tz: tzinfo) -> str:
    """``"Tue 2026-11-24 10:00 PST"`` in ``tz``, or ``"-"`` for no time.

    A naive value is UTC (SQLite hands stored instants back without an offset).
    """
    if value is None:
        return "-"
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")
