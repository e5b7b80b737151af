"""``assistant oncall show|import|add``: the on-call roster.

* ``assistant oncall show [--at ISO]`` — who is on call now (and the next shifts).
* ``assistant oncall import FILE`` — load a roster file (format: escalation/oncall.py).
* ``assistant oncall add --name N --phone P --role primary|backup --from ISO --to ISO``.

``assistant oncall watch`` (re-pages, and sends due notices) is added to these
commands by the gateway, which owns both halves of that loop. Times without an
offset are read as district wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from accounts.cli_time import local_text, parse_instant
from accounts.deps import CoreServices
from escalation.oncall import RosterError, add_shift, import_roster, on_call_at, upcoming_shifts

__all__ = ["register"]


def _fail(message: str, code: int = 2) -> int:
    print(f"assistant: {message}", file=sys.stderr)
    return code


def cmd_oncall_show(args: argparse.Namespace, services: CoreServices) -> int:
    """Print who is on call (now or at ``--at``) and the coming shifts."""
    tz = services.district.tz
    try:
        at = parse_instant(args.at, tz=tz) if args.at else services.clock.now()
        with services.session_factory() as session:
            roster = on_call_at(session=session, at=at)
            print(f"On call at {local_text(at, tz=tz)}:")
            for role in ("primary", "backup"):
                shift = roster.for_role(role)
                if shift is None:
                    print(f"  {role:8} (nobody)")
                else:
                    print(
                        f"  {role:8} {shift.name} {shift.phone}  "
                        f"until {local_text(shift.ends_at, tz=tz)}"
                    )
            shifts = upcoming_shifts(session=session, now=at, limit=args.limit)
            if shifts:
                print("Shifts:")
                for shift in shifts:
                    print(
                        f"  {local_text(shift.starts_at, tz=tz)} -> "
                        f"{local_text(shift.ends_at, tz=tz)}"
                        f"  {shift.role:8} {shift.name} {shift.phone}"
                    )
            # Exit 1 when nobody is primary: a monitor can alert on it.
            return 0 if roster.primary is not None else 1
    except argparse.ArgumentTypeError as exc:
        return _fail(str(exc))


def cmd_oncall_import(args: argparse.Namespace, services: CoreServices) -> int:
    """Replace the roster over the span a file covers."""
    try:
        with services.session_factory() as session:
            roster = import_roster(session=session, path=Path(args.file), tz=services.district.tz)
            session.commit()
    except RosterError as exc:
        return _fail(str(exc))
    print(
        f"imported {len(roster.shifts)} shifts; paging: ACK within "
        f"{roster.policy.ack_minutes} min, {roster.policy.primary_pages} primary pages, "
        f"{roster.policy.backup_pages} backup pages"
    )
    return 0


def cmd_oncall_add(args: argparse.Namespace, services: CoreServices) -> int:
    """Add one shift (it takes over from older overlapping shifts of its role)."""
    tz = services.district.tz
    try:
        with services.session_factory() as session:
            shift = add_shift(
                session=session,
                name=args.name,
                phone=args.phone,
                role=args.role,
                starts_at=parse_instant(args.start, tz=tz),
                ends_at=parse_instant(args.end, tz=tz),
            )
            session.commit()
            print(f"added shift {shift.id}: {shift.role} {shift.name}")
    except (RosterError, argparse.ArgumentTypeError) as exc:
        return _fail(str(exc))
    return 0


def register(subparsers: Any) -> Any:
    """Add ``oncall show|import|add`` to the ``assistant`` command line.

    Returns:
        The ``oncall`` subcommands, for the gateway to add ``watch`` to.
    """
    oncall = subparsers.add_parser("oncall", help="on-call roster and emergency paging")
    oncall_sub = oncall.add_subparsers(dest="oncall_command", required=True)

    show = oncall_sub.add_parser("show", help="who is on call")
    show.add_argument("--at", help="another instant (ISO date-time)")
    show.add_argument("--limit", type=int, default=10, help="shifts to list")
    show.set_defaults(handler=cmd_oncall_show)

    imp = oncall_sub.add_parser("import", help="load a roster file (YAML)")
    imp.add_argument("file")
    imp.set_defaults(handler=cmd_oncall_import)

    add = oncall_sub.add_parser("add", help="add one shift")
    add.add_argument("--name", required=True)
    add.add_argument("--phone", required=True)
    add.add_argument("--role", required=True, choices=("primary", "backup"))
    add.add_argument("--from", dest="start", required=True, help="start (ISO date-time)")
    add.add_argument("--to", dest="end", required=True, help="end (ISO date-time)")
    add.set_defaults(handler=cmd_oncall_add)
    return oncall_sub
