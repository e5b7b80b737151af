"""``assistant notice ...``: outage, planned-work and boil-water notices from the command line.

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
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.cli_time import local_text, parse_instant
from accounts.deps import CoreServices
from accounts.models import NOTICE_KINDS, Notice, OutboundMessage
from notices.announce import AnnounceReport, announce_notice
from notices.dispatch import EmailTransport, SmsDelivery, dispatch_due
from notices.lifecycle import NoticeError, close_notice, create_notice, parse_street, update_notice

__all__ = ["NoticeServices", "register"]


class NoticeServices(CoreServices, Protocol):
    """What the notice commands use: the core services and the senders notices go out by."""

    @property
    def sms_sender(self) -> SmsDelivery: ...

    @property
    def email_sender(self) -> EmailTransport: ...


def _fail(message: str, code: int = 2) -> int:
    print(f"assistant: {message}", file=sys.stderr)
    return code


def _notice_fields(args: argparse.Namespace, services: NoticeServices) -> dict[str, Any]:
    tz = services.district.tz
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
        fields["estimated_restoration_at"] = parse_instant(args.eta, tz=tz)
    if args.starts:
        fields["starts_at"] = parse_instant(args.starts, tz=tz)
    if args.cause:
        fields["cause"] = args.cause
    if args.safety:
        fields["safety"] = True
    return fields


def _print_report(report: AnnounceReport, services: NoticeServices) -> None:
    tz = services.district.tz
    data = report.as_json()
    print(
        f"notice {data['notice_id']} {data['event']}: {data['recipients']} recipients "
        f"({data['sms_rows']} SMS, {data['email_rows']} email messages queued); "
        f"skipped {data['skipped_opted_out']} opted out, {data['skipped_no_contact']} without "
        f"contact; {data['canceled_earlier']} earlier messages cancelled"
    )
    if report.first_send_at is not None:
        print(
            f"  sending {local_text(report.first_send_at, tz=tz)} .. "
            f"{local_text(report.last_send_at, tz=tz)}"
            + (f"; {report.held} held for quiet hours" if report.held else "")
        )


def _announce(
    session: Session, notice: Notice, event: str, now: datetime, services: NoticeServices
) -> None:
    """Send the notice's news to affected customers, commit, and print what went out."""
    report = announce_notice(
        session=session,
        notice=notice,
        event=event,
        now=now,
        calendar=services.calendar,
        settings=services.settings,
    )
    session.commit()
    _print_report(report, services)


def _get_notice(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NoticeError(f"no notice {notice_id}")
    return notice


def cmd_notice_create(args: argparse.Namespace, services: NoticeServices) -> int:
    """Create a notice and queue the messages to affected customers."""
    try:
        fields = _notice_fields(args, services)
        now = services.clock.now()
        with services.session_factory() as session:
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
            _announce(session, notice, "created", now, services)
    except (NoticeError, argparse.ArgumentTypeError) as exc:
        return _fail(str(exc))
    return 0


def cmd_notice_update(args: argparse.Namespace, services: NoticeServices) -> int:
    """Change a notice and send the update to affected customers."""
    try:
        fields = _notice_fields(args, services)
        if not fields:
            return _fail("nothing to update: give at least one option")
        now = services.clock.now()
        with services.session_factory() as session:
            notice = update_notice(
                session=session, notice=_get_notice(session, args.id), now=now, **fields
            )
            _announce(session, notice, "updated", now, services)
    except (NoticeError, argparse.ArgumentTypeError) as exc:
        return _fail(str(exc))
    return 0


def cmd_notice_close(args: argparse.Namespace, services: NoticeServices) -> int:
    """Close a notice and send the restoration message."""
    try:
        now = services.clock.now()
        with services.session_factory() as session:
            notice = close_notice(session=session, notice=_get_notice(session, args.id), now=now)
            _announce(session, notice, "closed", now, services)
    except NoticeError as exc:
        return _fail(str(exc))
    return 0


def cmd_notice_list(args: argparse.Namespace, services: NoticeServices) -> int:
    """List notices (open ones unless ``--all``) with their outbox counts."""
    tz = services.district.tz
    with services.session_factory() as session:
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
                f"eta: {local_text(notice.estimated_restoration_at, tz=tz)}; "
                f"messages: {counts or 'none'}"
            )
    return 0


def cmd_notice_dispatch(args: argparse.Namespace, services: NoticeServices) -> int:
    """Send notice messages that are due (once, or every ``--interval`` seconds)."""
    while True:
        with services.session_factory() as session:
            report = asyncio.run(
                dispatch_due(
                    session=session,
                    now=services.clock.now(),
                    sms=services.sms_sender,
                    email=services.email_sender,
                )
            )
            session.commit()
        if report.sent or args.once:
            print(f"notice messages sent: {report.sent}", flush=True)
        if args.once:
            return 0
        time.sleep(args.interval)


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
    """Add ``notice`` to the ``assistant`` command line."""
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
