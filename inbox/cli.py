"""``assistant inbox run`` (the worker) and ``assistant inbox poll --once``; demo mail seeding."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inbox.classify import ClassifierUnavailable
from inbox.demo_mail import write_demo_mail
from inbox.service import CLASSIFY_THREADS, InboxServices, build_inbox
from inbox.sources import MailSourceError
from inbox.worker import LeaseLost


def cmd_poll(args: argparse.Namespace, services: InboxServices) -> int:
    """Triage what is in the inbox now, send due replies, exit."""
    with ThreadPoolExecutor(CLASSIFY_THREADS) as executor:
        inbox = build_inbox(services, executor=executor)
        try:
            inbox.worker.source.open()
            report, drained = asyncio.run(inbox.poll_once())
        except LeaseLost:
            print("assistant inbox: another worker holds this mailbox's lease", file=sys.stderr)
            return 3
        except (ClassifierUnavailable, MailSourceError) as error:
            print(f"assistant inbox: {error}", file=sys.stderr)
            return 1
        finally:
            inbox.worker.source.close()
            inbox.worker.lease.release()
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing"
    print(
        f"inbox: {report.processed} triaged, {report.refiled} re-filed ({outcomes}); "
        f"replies sent {drained.sent}, retrying {drained.retrying}, failed {drained.failed}"
    )
    return 0


def cmd_run(args: argparse.Namespace, services: InboxServices) -> int:
    """Run the worker until interrupted."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        with ThreadPoolExecutor(CLASSIFY_THREADS) as executor:
            await build_inbox(services, executor=executor).run(stop)

    asyncio.run(main())
    return 0


def cmd_demo_mail(args: argparse.Namespace, services: InboxServices) -> int:
    """Write the demo's customer emails into the Maildir."""
    settings = services.settings
    written = write_demo_mail(settings.inbox_maildir)
    print(f"demo mail: {written} new message(s) in {settings.inbox_maildir}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``assistant inbox ...``."""
    inbox = subparsers.add_parser("inbox", help="the customer-service email inbox")
    sub = inbox.add_subparsers(dest="inbox_command", required=True)
    sub.add_parser("run", help="run the inbox worker (IDLE/poll) until Ctrl-C").set_defaults(
        handler=cmd_run
    )
    poll = sub.add_parser("poll", help="one pass over the inbox")
    poll.add_argument("--once", action="store_true", required=True, help="one pass, then exit")
    poll.set_defaults(handler=cmd_poll)
    sub.add_parser("demo-mail", help="write demo customer emails to the Maildir").set_defaults(
        handler=cmd_demo_mail
    )
