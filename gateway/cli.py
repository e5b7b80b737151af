"""The ``assistant`` command line: run, db upgrade, seed, nlu parse, and every package's commands.

Each package adds its own subcommands through a ``register(subparsers)``
function; every handler is called as ``handler(args, services)`` with the one
service container built here, and the container is closed when it returns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from accounts.logging_setup import configure_logging
from accounts.migrate import upgrade
from accounts.seed import SeedRefused, seed_demo, seeding_anchor
from accounts.settings import Settings, get_settings
from channels import cli as channels_cli
from escalation import cli as escalation_cli
from escalation import oncall_cli
from gateway import nlu_cli, supervisor, watch
from gateway.services import Services, build_services
from inbox import cli as inbox_cli
from inbox.demo_mail import write_demo_mail
from notices import cli as notices_cli

Handler = Callable[[argparse.Namespace, Services], int]


def _database_url_for_humans(settings: Settings) -> str:
    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


def cmd_db_upgrade(args: argparse.Namespace, services: Services) -> int:
    """Apply every migration."""
    services.settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(services.engine)
    print(f"database is up to date ({_database_url_for_humans(services.settings)})")
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\r  generated accounts: {done:,}/{total:,}", end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def cmd_seed(args: argparse.Namespace, services: Services) -> int:
    """Seed the demo district."""
    if not args.demo:
        print("assistant seed: only --demo is supported", file=sys.stderr)
        return 2
    settings = services.settings
    now = services.clock.now()
    today, anchor = seeding_anchor(now, args.today)
    with services.session_factory() as session:
        try:
            report = seed_demo(
                session=session,
                today=today,
                anchor=anchor,
                generated=args.accounts,
                months=args.months,
                replace=args.replace_existing_data,
                progress=_progress,
            )
        except SeedRefused as refusal:
            print(f"assistant seed: refused: {refusal}", file=sys.stderr)
            return 3
        session.commit()
    if report.skipped:
        print(f"seed: nothing to do, {report.skipped}")
        return 0
    print(
        f"seeded the demo district for {today.isoformat()}: {report.accounts:,} accounts, "
        f"{report.bills:,} bills, {report.payments:,} payments, {report.notices} notices, "
        f"{report.csr_users} CSR users"
    )
    if not settings.imap.host:
        written = write_demo_mail(settings.inbox_maildir, now=now)
        print(f"demo inbox: {written} customer emails in {settings.inbox_maildir}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)

    seed = sub.add_parser("seed", help="seed the demo district")
    seed.add_argument("--demo", action="store_true", help="the demo district and personas")
    seed.add_argument("--today", type=date.fromisoformat, help="seeding day (YYYY-MM-DD)")
    seed.add_argument("--accounts", type=int, default=2000, help="generated accounts")
    seed.add_argument("--months", type=int, default=12, help="months of bills")
    seed.add_argument(
        "--replace-existing-data",
        action="store_true",
        help="wipe whatever the database holds before seeding",
    )
    seed.set_defaults(handler=cmd_seed)

    for module in (nlu_cli, supervisor, channels_cli, inbox_cli, escalation_cli):
        module.register(sub)
    # ``oncall watch`` is the gateway's: it runs escalation's re-pages and notices' sends.
    watch.register(oncall_cli.register(sub))
    notices_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``assistant``; a database that cannot be reached is one clear line."""
    settings = get_settings()
    configure_logging(settings.log_level)
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    services = build_services(settings)
    try:
        return handler(args, services)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "unreachable"
        print(
            f"assistant: cannot use the database {_database_url_for_humans(settings)}: {reason}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
