"""The on-call roster: who is paged for an emergency at a given instant.

A roster is a set of :class:`accounts.models.OnCallShift` rows, each one person
in one role (``primary`` or ``backup``) from ``starts_at`` to ``ends_at``
(half-open). When shifts of the same role overlap, the one that started last
wins: a one-night swap entered on top of a month-long shift takes over for that
night without editing the long one.

The roster is edited in the CSR app (through :func:`add_shift` /
:func:`replace_shifts`) or imported from a YAML file with
:func:`load_roster_file` (format below; example: ``bot/oncall.yml``)::

    # Paging policy (all optional; defaults shown).
    paging:
      ack_minutes: 5        # wait this long for ACK / "press 1" before the next step
      primary_pages: 2      # pages to the primary (the first + re-pages)
      backup_pages: 2       # then pages to the backup
    # Who can be on call (key -> name and phone; any phone format, stored E.164).
    people:
      sam: {name: Sam Ortiz, phone: "+15305550150"}
      lee: {name: Lee Park, phone: "+15305550151"}
    # Shifts: local wall-clock times in the district timezone (or with an
    # explicit UTC offset). ``backup`` is optional.
    shifts:
      - {from: "2026-01-01 00:00", to: "2028-01-01 00:00", primary: sam, backup: lee}

Importing replaces every stored shift that overlaps the span the file covers
(history outside that span stays for the record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from accounts.models import OnCallShift
from accounts.phone import normalize_phone

__all__ = [
    "ROLES",
    "PagingPolicy",
    "Roster",
    "RosterError",
    "RosterFile",
    "ShiftSpec",
    "add_shift",
    "default_roster_path",
    "import_roster",
    "load_roster_file",
    "on_call_at",
    "on_call_phones",
    "replace_shifts",
    "upcoming_shifts",
]

ROLES = ("primary", "backup")


class RosterError(ValueError):
    """A roster entry or file is invalid (a staff input error, not a system error)."""


@dataclass(frozen=True, slots=True)
class PagingPolicy:
    """How long to wait for an acknowledgment and whom to page next.

    Attributes:
        ack_minutes: Minutes to wait for ACK / "press 1" before the next step.
        primary_pages: Pages sent to the primary (first page plus re-pages).
        backup_pages: Pages sent to the backup after the primary's.
    """

    ack_minutes: int = 5
    primary_pages: int = 2
    backup_pages: int = 2

    def __post_init__(self) -> None:
        if self.ack_minutes < 1:
            raise RosterError("paging.ack_minutes must be at least 1")
        if self.primary_pages < 1 or self.backup_pages < 0:
            raise RosterError("paging.primary_pages must be >= 1 and backup_pages >= 0")

    def plan(self) -> list[tuple[str, int]]:
        """The paging steps in order: ``(role, attempt)`` pairs."""
        steps = [("primary", n) for n in range(1, self.primary_pages + 1)]
        steps += [("backup", n) for n in range(1, self.backup_pages + 1)]
        return steps


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    """One person in one role for one span (what a file or form describes)."""

    name: str
    phone: str
    role: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class RosterFile:
    """A parsed roster file: its shifts and paging policy."""

    shifts: list[ShiftSpec]
    policy: PagingPolicy


@dataclass(frozen=True, slots=True)
class Roster:
    """Who is on call at one instant."""

    at: datetime
    primary: OnCallShift | None
    backup: OnCallShift | None

    def for_role(self, role: str) -> OnCallShift | None:
        """The shift holding ``role`` (``primary`` or ``backup``)."""
        return self.primary if role == "primary" else self.backup


def _validate(spec: ShiftSpec) -> ShiftSpec:
    if spec.role not in ROLES:
        raise RosterError(f"role must be one of {', '.join(ROLES)}, not {spec.role!r}")
    phone = normalize_phone(spec.phone)
    if phone is None:
        raise RosterError(f"{spec.name}: not a phone number")
    if not spec.name.strip():
        raise RosterError("a shift needs a name")
    for value in (spec.starts_at, spec.ends_at):
        if value.tzinfo is None:
            raise RosterError("shift times must be timezone-aware")
    if spec.ends_at <= spec.starts_at:
        raise RosterError(f"{spec.name}: a shift must end after it starts")
    return ShiftSpec(
        name=spec.name.strip(),
        phone=phone,
        role=spec.role,
        starts_at=spec.starts_at.astimezone(UTC),
        ends_at=spec.ends_at.astimezone(UTC),
    )


def add_shift(
    *,
    session: Session,
    name: str,
    phone: str,
    role: str,
    starts_at: datetime,
    ends_at: datetime,
) -> OnCallShift:
    """Add one shift (it wins over older overlapping shifts of the same role).

    Raises:
        RosterError: Unknown role, bad phone, naive or reversed times.
    """
    spec = _validate(ShiftSpec(name, phone, role, starts_at, ends_at))
    shift = OnCallShift(
        name=spec.name,
        phone=spec.phone,
        role=spec.role,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
    )
    session.add(shift)
    session.flush()
    return shift


def replace_shifts(*, session: Session, shifts: list[ShiftSpec]) -> list[OnCallShift]:
    """Replace the roster over the span ``shifts`` cover with ``shifts``.

    Stored shifts overlapping ``[earliest start, latest end)`` are deleted; the
    rest (older history, later plans) stay.

    Raises:
        RosterError: An entry is invalid (nothing is changed then).
    """
    valid = [_validate(spec) for spec in shifts]
    if not valid:
        return []
    span_start = min(s.starts_at for s in valid)
    span_end = max(s.ends_at for s in valid)
    session.execute(
        delete(OnCallShift).where(
            OnCallShift.starts_at < span_end, OnCallShift.ends_at > span_start
        )
    )
    added = [
        OnCallShift(
            name=s.name, phone=s.phone, role=s.role, starts_at=s.starts_at, ends_at=s.ends_at
        )
        for s in valid
    ]
    session.add_all(added)
    session.flush()
    return added


def on_call_at(*, session: Session, at: datetime) -> Roster:
    """The primary and backup on call at ``at`` (either may be ``None``)."""
    statement = (
        select(OnCallShift)
        .where(OnCallShift.starts_at <= at, OnCallShift.ends_at > at)
        .order_by(OnCallShift.starts_at.desc(), OnCallShift.id.desc())
    )
    chosen: dict[str, OnCallShift] = {}
    for shift in session.scalars(statement):
        chosen.setdefault(shift.role, shift)
    return Roster(at=at, primary=chosen.get("primary"), backup=chosen.get("backup"))


def upcoming_shifts(*, session: Session, now: datetime, limit: int = 20) -> list[OnCallShift]:
    """Shifts that have not ended yet, soonest first."""
    statement = (
        select(OnCallShift)
        .where(OnCallShift.ends_at > now)
        .order_by(OnCallShift.starts_at, OnCallShift.role, OnCallShift.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def on_call_phones(*, session: Session) -> set[str]:
    """Every phone that appears on the roster (past or future): staff, not customers."""
    return set(session.scalars(select(OnCallShift.phone).distinct()))


# -- roster files ---------------------------------------------------------------


def _parse_instant(value: Any, tz: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise RosterError(f"{where}: not a date-time: {value!r}") from exc
    else:
        # YAML reads a bare date as ``date``: midnight local time.
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise RosterError(f"{where}: not a date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def _int_field(data: dict[str, Any], key: str, default: int, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RosterError(f"{where}.{key}: expected a whole number")
    return value


def _policy(data: Any, path: Path) -> PagingPolicy:
    if data is None:
        return PagingPolicy()
    if not isinstance(data, dict):
        raise RosterError(f"{path}: paging: expected a mapping")
    unknown = set(data) - {"ack_minutes", "primary_pages", "backup_pages"}
    if unknown:
        raise RosterError(f"{path}: paging: unknown field(s) {', '.join(sorted(unknown))}")
    where = f"{path}: paging"
    defaults = PagingPolicy()
    return PagingPolicy(
        ack_minutes=_int_field(data, "ack_minutes", defaults.ack_minutes, where),
        primary_pages=_int_field(data, "primary_pages", defaults.primary_pages, where),
        backup_pages=_int_field(data, "backup_pages", defaults.backup_pages, where),
    )


def load_roster_file(path: Path, *, tz: ZoneInfo) -> RosterFile:
    """Read and validate a roster file (format in this module's docstring).

    Args:
        path: The YAML file.
        tz: The district timezone, for times written without an offset.

    Raises:
        RosterError: The file cannot be read or an entry is invalid; the message
            says which entry.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RosterError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RosterError(f"{path}: expected a mapping at the top level")
    people_raw = data.get("people") or {}
    if not isinstance(people_raw, dict):
        raise RosterError(f"{path}: people: expected a mapping of key -> name and phone")
    people: dict[str, tuple[str, str]] = {}
    for key, entry in people_raw.items():
        if not isinstance(entry, dict) or "name" not in entry or "phone" not in entry:
            raise RosterError(f"{path}: people.{key}: needs name and phone")
        people[str(key)] = (str(entry["name"]), str(entry["phone"]))
    shifts_raw = data.get("shifts") or []
    if not isinstance(shifts_raw, list):
        raise RosterError(f"{path}: shifts: expected a list")
    specs: list[ShiftSpec] = []
    for index, entry in enumerate(shifts_raw):
        where = f"{path}: shifts[{index}]"
        if not isinstance(entry, dict):
            raise RosterError(f"{where}: expected a mapping")
        if "from" not in entry or "to" not in entry or "primary" not in entry:
            raise RosterError(f"{where}: needs from, to and primary")
        starts = _parse_instant(entry["from"], tz, f"{where}.from")
        ends = _parse_instant(entry["to"], tz, f"{where}.to")
        for role in ROLES:
            key = entry.get(role)
            if key is None:
                continue
            if str(key) not in people:
                raise RosterError(f"{where}.{role}: {key!r} is not in people")
            name, phone = people[str(key)]
            try:
                specs.append(_validate(ShiftSpec(name, phone, role, starts, ends)))
            except RosterError as exc:
                raise RosterError(f"{where}: {exc}") from exc
    return RosterFile(shifts=specs, policy=_policy(data.get("paging"), path))


def import_roster(*, session: Session, path: Path, tz: ZoneInfo) -> RosterFile:
    """Load a roster file and replace the stored roster over the span it covers."""
    roster = load_roster_file(path, tz=tz)
    replace_shifts(session=session, shifts=roster.shifts)
    return roster


def default_roster_path(district_file: Path) -> Path:
    """The roster file beside the district file (``bot/oncall.yml``)."""
    return district_file.parent / "oncall.yml"
