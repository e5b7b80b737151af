"""``assistant csr ...``: manage CSR logins and look at the queue from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from sqlalchemy import func, select

from accounts.deps import CoreServices
from accounts.models import CsrUser, Ticket
from accounts.passwords import hash_password
from accounts.services.tickets import OPEN_STATUSES
from escalation.routing import LEVELS

MIN_PASSWORD = 10


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("assistant csr: the passwords differ", file=sys.stderr)
            return None
    if len(password) < MIN_PASSWORD:
        print(f"assistant csr: use at least {MIN_PASSWORD} characters", file=sys.stderr)
        return None
    return password


def cmd_add_user(args: argparse.Namespace, services: CoreServices) -> int:
    """Create a CSR login."""
    password = _read_password(args)
    if password is None:
        return 2
    now = services.clock.now()
    with services.session_factory() as session:
        if session.scalar(select(CsrUser).where(CsrUser.username == args.username)):
            print(f"assistant csr: {args.username} already exists", file=sys.stderr)
            return 1
        session.add(
            CsrUser(
                username=args.username,
                name=args.name,
                level=args.level,
                password_hash=hash_password(password),
                is_demo=False,
                active=True,
                created_at=now,
            )
        )
        session.commit()
    print(f"added {args.username} (CSR {args.level})")
    return 0


def cmd_set_password(args: argparse.Namespace, services: CoreServices) -> int:
    """Change a CSR's password (ends their sessions and tokens)."""
    password = _read_password(args)
    if password is None:
        return 2
    with services.session_factory() as session:
        user = session.scalar(select(CsrUser).where(CsrUser.username == args.username))
        if user is None:
            print(f"assistant csr: no user {args.username}", file=sys.stderr)
            return 1
        user.password_hash = hash_password(password)
        session.commit()
    print(f"password changed for {args.username}")
    return 0


def cmd_deactivate(args: argparse.Namespace, services: CoreServices) -> int:
    """Disable a CSR login (ends their sessions and tokens)."""
    with services.session_factory() as session:
        user = session.scalar(select(CsrUser).where(CsrUser.username == args.username))
        if user is None:
            print(f"assistant csr: no user {args.username}", file=sys.stderr)
            return 1
        user.active = False
        session.commit()
    print(f"deactivated {args.username}")
    return 0


def cmd_list_users(args: argparse.Namespace, services: CoreServices) -> int:
    """List CSR logins."""
    with services.session_factory() as session:
        for user in session.scalars(select(CsrUser).order_by(CsrUser.username)):
            flags = ("" if user.active else " inactive") + (" demo" if user.is_demo else "")
            print(f"{user.username:<16} CSR {user.level:<8} {user.name}{flags}")
    return 0


def cmd_queue(args: argparse.Namespace, services: CoreServices) -> int:
    """Open tickets by level and status."""
    with services.session_factory() as session:
        rows = session.execute(
            select(Ticket.level, Ticket.status, func.count(Ticket.id))
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.level, Ticket.status)
        ).all()
    counts = {(level, status): count for level, status, count in rows}
    print(f"{'level':<8}" + "".join(f"{status:>9}" for status in OPEN_STATUSES))
    for level in LEVELS:
        print(f"{level:<8}" + "".join(f"{counts.get((level, s), 0):>9}" for s in OPEN_STATUSES))
    return 0


def register(subparsers: Any) -> None:
    """Add ``assistant csr`` to the command line."""
    csr = subparsers.add_parser("csr", help="CSR logins and the queue")
    sub = csr.add_subparsers(dest="csr_command", required=True)

    add = sub.add_parser("add-user", help="create a CSR login (asks for the password)")
    add.add_argument("username")
    add.add_argument("--name", required=True)
    add.add_argument("--level", required=True, choices=LEVELS)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=cmd_add_user)

    password = sub.add_parser("set-password", help="change a CSR's password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(handler=cmd_set_password)

    deactivate = sub.add_parser("deactivate", help="disable a CSR login")
    deactivate.add_argument("username")
    deactivate.set_defaults(handler=cmd_deactivate)

    sub.add_parser("list-users", help="list CSR logins").set_defaults(handler=cmd_list_users)
    sub.add_parser("queue", help="open tickets by level").set_defaults(handler=cmd_queue)
