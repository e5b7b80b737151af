"""``assistant oncall ...`` and ``assistant notice ...``: the after-hours commands.

* ``assistant oncall show [--at ISO]`` — who is on call now (and the next shifts).
* ``assistant oncall import FILE`` — load a roster file (format: escalation/oncall.py).
* ``assistant oncall add --name N --phone P --role primary|backup --from ISO --to ISO``.
* ``assistant oncall watch [--once] [--interval S]`` — the after-hours worker:
  re-pages unacknowledged emergencies and sends the notice messages that are due.
* ``assistant notice create --kind K --zone Z [--street "Oak Street:400-700"] --title T
  --text-en E --text-es S [--eta ISO] [--starts ISO] [--cause C] [--safety]``
* ``assistant notice update ID [...same options...]``, ``assistant notice close ID``,
  ``assistant notice list [--all]``, ``assistant notice dispatch [--once]``.

Times without an offset are read as district wall-clock time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import NOTICE_KINDS, Notice, OutboundMessage
from escalation.deps import OnCallServices
from escalation.oncall import (
    PagingPolicy,
    RosterError,
    add_shift,
    default_roster_path,
    import_roster,
    load_roster_file,
    on_call_at,
    upcoming_shifts,
)
from escalation.paging import tick
from notices.announce import announce_notice
from notices.dispatch import EmailTransport, dispatch_due
from notices.lifecycle import NoticeError, close_notice, create_notice, parse_street, update_notice

__all__ = ["register"]


def _instant(value: str, context: OnCallServices) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=context.district.tz)
    return parsed.astimezone(UTC)


def _local(value: datetime | None, context: OnCallServices) -> str:
    if value is None:
        return "-"
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(context.district.tz).strftime("%a %Y-%m-%d %H:%M %Z")


def _fail(message: str, code: int = 2) -> int:
    print(f"assistant: {message}", file=sys.stderr)
    return code


# -- oncall -------------------------------------------------------------------------------


def cmd_oncall_show(args: argparse.Namespace, context: OnCallServices) -> int:
    """Print who is on call (now or at ``--at``) and the coming shifts."""
    try:
        at = _instant(args.at, context) if args.at else context.clock.now()
        with context.session_factory() as session:
            roster = on_call_at(session=session, at=at)
            print(f"On call at {_local(at, context)}:")
            for role in ("primary", "backup"):
                shift = roster.for_role(role)
                if shift is None:
                    print(f"  {role:8} (nobody)")
                else:
                    print(
                        f"  {role:8} {shift.name} {shift.phone}  "
                        f"until {_local(shift.ends_at, context)}"
                    )
            shifts = upcoming_shifts(session=session, now=at, limit=args.limit)
            if shifts:
                print("Shifts:")
                for shift in shifts:
                    print(
                        f"  {_local(shift.starts_at, context)} -> {_local(shift.ends_at, context)}"
                        f"  {shift.role:8} {shift.name} {shift.phone}"
                    )
            # Exit 1 when nobody is primary: a monitor can alert on it.
            return 0 if roster.primary is not None else 1
    except argparse.ArgumentTypeError as exc:
        return _fail(str(exc))


def cmd_oncall_import(args: argparse.Namespace, context: OnCallServices) -> int:
    """Replace the roster over the span a file covers."""
    try:
        with context.session_factory() as session:
            roster = import_roster(session=session, path=Path(args.file), tz=context.district.tz)
            session.commit()
    except RosterError as exc:
        return _fail(str(exc))
    print(
        f"imported {len(roster.shifts)} shifts; paging: ACK within "
        f"{roster.policy.ack_minutes} min, {roster.policy.primary_pages} primary pages, "
        f"{roster.policy.backup_pages} backup pages"
    )
    return 0


def cmd_oncall_add(args: argparse.Namespace, context: OnCallServices) -> int:
    """Add one shift (it takes over from older overlapping shifts of its role)."""
    try:
        with context.session_factory() as session:
            shift = add_shift(
                session=session,
                name=args.name,
                phone=args.phone,
                role=args.role,
                starts_at=_instant(args.start, context),
                ends_at=_instant(args.end, context),
            )
            session.commit()
            print(f"added shift {shift.id}: {shift.role} {shift.name}")
    except (RosterError, argparse.ArgumentTypeError) as exc:
        return _fail(str(exc))
    return 0


def _policy(path: Path, context: OnCallServices) -> PagingPolicy:
    if not path.exists():
        return PagingPolicy()
    return load_roster_file(path, tz=context.district.tz).policy


def _work_once(
    context: OnCallServices, policy: PagingPolicy, email: EmailTransport, *, paging: bool
) -> tuple[int, int]:
    transport = context.pager.transport
    moved = 0
    with context.session_factory() as session:
        if paging:
            moved = tick(
                session=session, now=context.clock.now(), transport=transport, policy=policy
            )
            session.commit()
        report = asyncio.run(
            dispatch_due(
                session=session, now=context.clock.now(), sms=context.sms_sender, email=email
            )
        )
        session.commit()
    return moved, report.sent


def cmd_oncall_watch(args: argparse.Namespace, context: OnCallServices) -> int:
    """The after-hours worker: re-pages and due notice messages, every few seconds."""
    try:
        path = Path(args.file) if args.file else default_roster_path(context.settings.district_file)
        policy = _policy(path, context)
        email = context.email_sender
        while True:
            moved, sent = _work_once(context, policy, email, paging=True)
            if moved or sent or args.once:
                print(f"paging steps: {moved}, notice messages sent: {sent}", flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)
    except RosterError as exc:
        return _fail(str(exc))


# -- notices ------------------------------------------------------------------------------


def _notice_fields(args: argparse.Namespace, context: OnCallServices) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if args.title:
        fields["title"] = args.title
    if args.text_en:
        fields["text_en"] = args.text_en
    if args.text_es:
        fields["text_es"] = args.text_es
    if args.zone:
        fields["zones"] = list(args.zone)
    if args.street:
        fields["streets"] = [parse_street(text) for text in args.street]
    if args.eta:
        fields["estimated_restoration_at"] = _instant(args.eta, context)
    if args.starts:
        fields["starts_at"] = _instant(args.starts, context)
    if args.cause:
        fields["cause"] = args.cause
    if args.safety:
        fields["safety"] = True
    return fields


def _print_report(report: Any, context: OnCallServices) -> None:
    data = report.as_json()
    print(
        f"notice {data['notice_id']} {data['event']}: {data['recipients']} recipients "
        f"({data['sms_rows']} SMS, {data['email_rows']} email messages queued); "
        f"skipped {data['skipped_opted_out']} opted out, {data['skipped_no_contact']} without "
        f"contact; {data['canceled_earlier']} earlier messages cancelled"
    )
    if report.first_send_at is not None:
        print(
            f"  sending {_local(report.first_send_at, context)} .. "
            f"{_local(report.last_send_at, context)}"
            + (f"; {report.held} held for quiet hours" if report.held else "")
        )


def cmd_notice_create(args: argparse.Namespace, context: OnCallServices) -> int:
    """Create a notice and queue the messages to affected customers."""
    try:
        fields = _notice_fields(args, context)
        now = context.clock.now()
        with context.session_factory() as session:
            notice = create_notice(
                session=session,
                now=now,
                kind=args.kind,
                title=fields.get("title", ""),
                zones=fields.get("zones", []),
                streets=fields.get("streets", []),
                text_en=fields.get("text_en", ""),
                text_es=fields.get("text_es", ""),
                cause=fields.get("cause", ""),
                starts_at=fields.get("starts_at"),
                estimated_restoration_at=fields.get("estimated_restoration_at"),
                # A boil-water notice is a health notice: it never waits for morning.
                safety=bool(fields.get("safety")) or args.kind == "boil_water",
            )
            _announce(session, notice, "created", now, context)
    except (NoticeError, argparse.ArgumentTypeError) as exc:
        return _fail(str(exc))
    return 0


def _announce(
    session: Session, notice: Notice, event: str, now: datetime, context: OnCallServices
) -> None:
    """Send the notice's news to affected customers, commit, and print what went out."""
    report = announce_notice(
        session=session,
        notice=notice,
        event=event,
        now=now,
        calendar=context.calendar,
        settings=context.settings,
    )
    session.commit()
    _print_report(report, context)


def _get_notice(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NoticeError(f"no notice {notice_id}")
    return notice


def cmd_notice_update(args: argparse.Namespace, context: OnCallServices) -> int:
    """Change a notice and send the update to affected customers."""
    try:
        fields = _notice_fields(args, context)
        if not fields:
            return _fail("nothing to update: give at least one option")
        now = context.clock.now()
        with context.session_factory() as session:
            notice = update_notice(
                session=session, notice=_get_notice(session, args.id), now=now, **fields
            )
            _announce(session, notice, "updated", now, context)
    except (NoticeError, argparse.ArgumentTypeError) as exc:
        return _fail(str(exc))
    return 0


def cmd_notice_close(args: argparse.Namespace, context: OnCallServices) -> int:
    """Close a notice and send the restoration message."""
    try:
        now = context.clock.now()
        with context.session_factory() as session:
            notice = close_notice(session=session, notice=_get_notice(session, args.id), now=now)
            _announce(session, notice, "closed", now, context)
    except NoticeError as exc:
        return _fail(str(exc))
    return 0


def cmd_notice_list(args: argparse.Namespace, context: OnCallServices) -> int:
    """List notices (open ones unless ``--all``) with their outbox counts."""
    with context.session_factory() as session:
        statement = select(Notice).order_by(Notice.id)
        if not args.all:
            statement = statement.where(Notice.status != "closed")
        for notice in session.scalars(statement):
            counts = dict(
                session.execute(
                    select(OutboundMessage.status, func.count())
                    .where(OutboundMessage.notice_id == notice.id)
                    .group_by(OutboundMessage.status)
                )
                .tuples()
                .all()
            )
            streets = ", ".join(
                s["street"] + (f" {s['from']}-{s['to']}" if s.get("from") is not None else "")
                for s in notice.streets or []
            )
            print(
                f"#{notice.id} {notice.kind} [{notice.status}]"
                f"{' SAFETY' if notice.safety else ''} {notice.title}\n"
                f"    zones: {', '.join(notice.zones)}"
                f"{'; streets: ' + streets if streets else ''}; "
                f"eta: {_local(notice.estimated_restoration_at, context)}; "
                f"messages: {counts or 'none'}"
            )
    return 0


def cmd_notice_dispatch(args: argparse.Namespace, context: OnCallServices) -> int:
    """Send notice messages that are due (once, or every ``--interval`` seconds)."""
    email = context.email_sender
    while True:
        _, sent = _work_once(context, PagingPolicy(), email, paging=False)
        if sent or args.once:
            print(f"notice messages sent: {sent}", flush=True)
        if args.once:
            return 0
        time.sleep(args.interval)


# -- wiring -----------------------------------------------------------------------------


def _notice_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    if creating:
        parser.add_argument("--kind", required=True, choices=NOTICE_KINDS)
    parser.add_argument("--zone", action="append", help="pressure zone (repeat for several)")
    parser.add_argument(
        "--street", action="append", help='"Street Name" or "Street Name:FROM-TO" (repeatable)'
    )
    parser.add_argument("--title", required=creating)
    parser.add_argument("--text-en", required=creating, help="customer text in English")
    parser.add_argument("--text-es", required=creating, help="customer text in Spanish")
    parser.add_argument("--eta", help="estimated restoration (ISO date-time)")
    parser.add_argument("--starts", help="start time (ISO; default now)")
    parser.add_argument("--cause", help="cause (internal)")
    parser.add_argument(
        "--safety", action="store_true", help="a safety notice: sent at once, even at night"
    )


def register(subparsers: Any) -> None:
    """Add ``oncall`` and ``notice`` to the ``assistant`` command line."""
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

    watch = oncall_sub.add_parser(
        "watch", help="re-page unacknowledged emergencies and send due notices (a loop)"
    )
    watch.add_argument("--once", action="store_true", help="one pass, then exit")
    watch.add_argument("--interval", type=float, default=10.0, help="seconds between passes")
    watch.add_argument("--file", help="roster file with the paging policy (default bot/oncall.yml)")
    watch.set_defaults(handler=cmd_oncall_watch)

    notice = subparsers.add_parser("notice", help="outage, planned work and boil-water notices")
    notice_sub = notice.add_subparsers(dest="notice_command", required=True)

    create = notice_sub.add_parser("create", help="create a notice and notify customers")
    _notice_options(create, creating=True)
    create.set_defaults(handler=cmd_notice_create)

    upd = notice_sub.add_parser("update", help="change a notice and send the update")
    upd.add_argument("id", type=int)
    _notice_options(upd, creating=False)
    upd.set_defaults(handler=cmd_notice_update)

    close = notice_sub.add_parser("close", help="close a notice and send the restoration")
    close.add_argument("id", type=int)
    close.set_defaults(handler=cmd_notice_close)

    listing = notice_sub.add_parser("list", help="list notices")
    listing.add_argument("--all", action="store_true", help="closed ones too")
    listing.set_defaults(handler=cmd_notice_list)

    dispatch = notice_sub.add_parser("dispatch", help="send notice messages that are due")
    dispatch.add_argument("--once", action="store_true")
    dispatch.add_argument("--interval", type=float, default=5.0)
    dispatch.set_defaults(handler=cmd_notice_dispatch)
