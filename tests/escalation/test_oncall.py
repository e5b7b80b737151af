"""The on-call roster: who is on call at an instant, shift edits and roster files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import OnCallShift
from escalation.oncall import (
    PagingPolicy,
    RosterError,
    add_shift,
    import_roster,
    load_roster_file,
    on_call_at,
    on_call_phones,
    replace_shifts,
)

ROOT = Path(__file__).resolve().parents[2]


def test_demo_roster_is_sam_then_lee(seeded: Session, clock: FixedClock) -> None:
    roster = on_call_at(session=seeded, at=clock.now())
    assert roster.primary is not None and roster.backup is not None
    assert (roster.primary.name, roster.primary.phone) == ("Sam Ortiz", "+15305550150")
    assert (roster.backup.name, roster.backup.phone) == ("Lee Park", "+15305550151")
    assert on_call_phones(session=seeded) == {"+15305550150", "+15305550151"}


def test_swap_shift_wins_for_its_span_only(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    add_shift(
        session=session,
        name="Sam Ortiz",
        phone="530-555-0150",
        role="primary",
        starts_at=now - timedelta(days=3),
        ends_at=now + timedelta(days=4),
    )
    swap = add_shift(
        session=session,
        name="Kim Diaz",
        phone="+1 (530) 555-0152",
        role="primary",
        starts_at=now,
        ends_at=now + timedelta(hours=12),
    )
    assert swap.phone == "+15305550152"
    assert on_call_at(session=session, at=now).primary.name == "Kim Diaz"
    assert on_call_at(session=session, at=now - timedelta(seconds=1)).primary.name == "Sam Ortiz"
    # Shifts are half-open: at the swap's end, Sam is back.
    assert on_call_at(session=session, at=now + timedelta(hours=12)).primary.name == "Sam Ortiz"
    assert on_call_at(session=session, at=now).backup is None
    assert on_call_at(session=session, at=now + timedelta(days=5)).primary is None


@pytest.mark.parametrize(
    ("name", "phone", "role", "hours", "message"),
    [
        ("Sam", "+15305550150", "chief", 1, "role must be"),
        ("Sam", "call me", "primary", 1, "not a phone number"),
        ("Sam", "+15305550150", "primary", -1, "must end after"),
        (" ", "+15305550150", "primary", 1, "needs a name"),
    ],
)
def test_bad_shifts_are_refused(
    session: Session,
    clock: FixedClock,
    name: str,
    phone: str,
    role: str,
    hours: int,
    message: str,
) -> None:
    now = clock.now()
    with pytest.raises(RosterError, match=message):
        add_shift(
            session=session,
            name=name,
            phone=phone,
            role=role,
            starts_at=now,
            ends_at=now + timedelta(hours=hours),
        )


def test_naive_times_are_refused(session: Session) -> None:
    with pytest.raises(RosterError, match="timezone-aware"):
        add_shift(
            session=session,
            name="Sam",
            phone="+15305550150",
            role="primary",
            starts_at=datetime(2026, 1, 1),
            ends_at=datetime(2026, 1, 2),
        )


def test_example_roster_file_matches_the_demo(
    session: Session, calendar: BusinessCalendar, clock: FixedClock
) -> None:
    roster = load_roster_file(ROOT / "bot" / "oncall.yml", tz=calendar.tz)
    assert roster.policy == PagingPolicy(ack_minutes=5, primary_pages=2, backup_pages=2)
    assert [(s.role, s.name, s.phone) for s in roster.shifts] == [
        ("primary", "Sam Ortiz", "+15305550150"),
        ("backup", "Lee Park", "+15305550151"),
    ]
    import_roster(session=session, path=ROOT / "bot" / "oncall.yml", tz=calendar.tz)
    current = on_call_at(session=session, at=clock.now())
    assert current.primary.name == "Sam Ortiz" and current.backup.name == "Lee Park"


def test_import_replaces_overlapping_shifts_and_reads_local_time_across_dst(
    session: Session, calendar: BusinessCalendar, tmp_path: Path
) -> None:
    old_start = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    add_shift(
        session=session,
        name="Old Timer",
        phone="+15305550159",
        role="primary",
        starts_at=old_start,
        ends_at=old_start + timedelta(days=14),
    )
    add_shift(
        session=session,
        name="History",
        phone="+15305550158",
        role="primary",
        starts_at=old_start - timedelta(days=30),
        ends_at=old_start - timedelta(days=20),
    )
    path = tmp_path / "roster.yml"
    path.write_text(
        "paging: {ack_minutes: 3, primary_pages: 1, backup_pages: 1}\n"
        "people:\n"
        "  sam: {name: Sam Ortiz, phone: '(530) 555-0150'}\n"
        "  lee: {name: Lee Park, phone: '+15305550151'}\n"
        "shifts:\n"
        # Daylight saving starts 2026-03-08 at 2 AM: 08:00 is UTC-8 before, UTC-7 after.
        "  - {from: '2026-03-02 08:00', to: '2026-03-09 08:00', primary: sam, backup: lee}\n"
        "  - {from: '2026-03-09 08:00', to: '2026-03-16T08:00-07:00', primary: lee}\n",
        encoding="utf-8",
    )
    roster = import_roster(session=session, path=path, tz=calendar.tz)
    assert roster.policy.plan() == [("primary", 1), ("backup", 1)]
    first = roster.shifts[0]
    assert first.starts_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert first.ends_at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    names = set(session.scalars(select(OnCallShift.name)))
    assert names == {"Sam Ortiz", "Lee Park", "History"}  # "Old Timer" overlapped: replaced
    assert (
        on_call_at(session=session, at=datetime(2026, 3, 9, 14, 59, tzinfo=UTC)).primary.name
        == "Sam Ortiz"
    )
    assert (
        on_call_at(session=session, at=datetime(2026, 3, 9, 15, 0, tzinfo=UTC)).primary.name
        == "Lee Park"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("shifts: [{from: '2026-01-01', to: '2026-02-01', primary: nobody}]\n", "not in people"),
        ("people: {a: {name: A}}\n", "needs name and phone"),
        (
            "people: {a: {name: A, phone: '+15305550150'}}\n"
            "shifts: [{from: '2026-02-01', to: '2026-01-01', primary: a}]\n",
            "must end after",
        ),
        (
            "people: {a: {name: A, phone: '+15305550150'}}\n"
            "shifts: [{from: 'soon', to: '2026-01-01', primary: a}]\n",
            "not a date-time",
        ),
        ("paging: {ack_minutes: 0}\n", "at least 1"),
        ("paging: {ack_mins: 5}\n", "unknown field"),
        ("- just a list\n", "mapping at the top level"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_roster_files_say_what_is_wrong(
    tmp_path: Path, calendar: BusinessCalendar, content: str, message: str
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError, match=message):
        load_roster_file(path, tz=calendar.tz)


def test_missing_file_is_a_roster_error(tmp_path: Path, calendar: BusinessCalendar) -> None:
    with pytest.raises(RosterError, match="cannot read"):
        load_roster_file(tmp_path / "absent.yml", tz=calendar.tz)


def test_invalid_replacement_changes_nothing(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    add_shift(
        session=session,
        name="Sam Ortiz",
        phone="+15305550150",
        role="primary",
        starts_at=now,
        ends_at=now + timedelta(days=1),
    )
    from escalation.oncall import ShiftSpec

    with pytest.raises(RosterError):
        replace_shifts(
            session=session,
            shifts=[
                ShiftSpec("Lee", "+15305550151", "primary", now, now + timedelta(days=1)),
                ShiftSpec("Bad", "nope", "primary", now, now + timedelta(days=1)),
            ],
        )
    assert on_call_at(session=session, at=now).primary.name == "Sam Ortiz"
