from __future__ import annotations

import argparse
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.cli_time import local_text, parse_instant

PACIFIC = ZoneInfo("America/Los_Angeles")


def test_a_time_without_offset_is_district_wall_clock_time() -> None:
    afternoon = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    assert parse_instant(" 2026-11-24T14:00 ", tz=PACIFIC) == afternoon
    assert parse_instant("2026-11-24T22:00+00:00", tz=PACIFIC) == afternoon


def test_garbage_is_a_usage_error() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not an ISO date-time"):
        parse_instant("tomorrow", tz=PACIFIC)


def test_printed_in_local_time_naive_values_are_utc() -> None:
    assert local_text(datetime(2026, 11, 24, 18, 0), tz=PACIFIC) == "Tue 2026-11-24 10:00 PST"
    assert local_text(datetime(2026, 11, 24, 18, 0, tzinfo=UTC), tz=PACIFIC) == (
        "Tue 2026-11-24 10:00 PST"
    )
    assert local_text(None, tz=PACIFIC) == "-"
