"""``assistant oncall watch``: the after-hours worker, every few seconds.

One loop does two packages' periodic work: it re-pages unacknowledged
emergencies (``escalation.paging.tick``) and sends the notice messages that are
due (``notices.dispatch.dispatch_due``). It lives in the composition root
because neither package may import the other.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from escalation.oncall import PagingPolicy, RosterError, default_roster_path, load_roster_file
from escalation.paging import tick
from gateway.services import Services
from notices.dispatch import dispatch_due

__all__ = ["register"]


def _policy(path: Path, services: Services) -> PagingPolicy:
    if not path.exists():
        return PagingPolicy()
    return load_roster_file(path, tz=services.district.tz).policy


def _work_once(services: Services, policy: PagingPolicy) -> tuple[int, int]:
    """One pass: paging steps taken, notice messages sent."""
    with services.session_factory() as session:
        moved = tick(
            session=session,
            now=services.clock.now(),
            transport=services.pager.transport,
            policy=policy,
        )
        session.commit()
        report = asyncio.run(
            dispatch_due(
                session=session,
                now=services.clock.now(),
                sms=services.sms_sender,
                email=services.email_sender,
            )
        )
        session.commit()
    return moved, report.sent


def cmd_oncall_watch(args: argparse.Namespace, services: Services) -> int:
    """The after-hours worker: re-pages and due notice messages, every few seconds."""
    default = default_roster_path(services.settings.district_file)
    try:
        path = Path(args.file) if args.file else default
        policy = _policy(path, services)
        while True:
            moved, sent = _work_once(services, policy)
            if moved or sent or args.once:
                print(f"paging steps: {moved}, notice messages sent: {sent}", flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)
    except RosterError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 2


def register(oncall_commands: Any) -> None:
    """Add ``watch`` to the ``assistant oncall`` commands (``escalation.oncall_cli.register``)."""
    watch = oncall_commands.add_parser(
        "watch", help="re-page unacknowledged emergencies and send due notices (a loop)"
    )
    watch.add_argument("--once", action="store_true", help="one pass, then exit")
    watch.add_argument("--interval", type=float, default=10.0, help="seconds between passes")
    watch.add_argument("--file", help="roster file with the paging policy (default bot/oncall.yml)")
    watch.set_defaults(handler=cmd_oncall_watch)
