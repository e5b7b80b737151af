"""Realistic customer emails for the demo inbox (a Maildir), one per common path.

``write_demo_mail`` is idempotent: a message whose Message-ID is already in
the Maildir (inbox or any Triaged folder) is not written again.
"""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from inbox.parse import parse_email

DISTRICT = "customerservice@valleysprings-water.example.com"

# (Message-ID, From, Subject, body, extra headers)
DEMO_MAIL: list[tuple[str, str, str, str, dict[str, str]]] = [
    (
        "<demo-outage-dana@example.com>",
        "Dana Whitfield <dana.whitfield@example.com>",
        "No water on Oak Street",
        "Hi,\n\nWe have had no water at 512 Oak Street since about an hour ago. "
        "Is there an outage? When will it be back?\n\nThanks,\nDana\n\nSent from my iPhone\n",
        {},
    ),
    (
        "<demo-dispute-robert@example.com>",
        "Robert Hale <robert.hale@example.com>",
        "Bill is four times higher than usual",
        "Hello,\n\nMy latest bill is $412.88. I normally pay about $90. Nothing changed at the "
        "house, but I found a wet spot in the yard last week. Please review the bill - "
        "I think it is wrong.\n\nRobert Hale\n2250 Sycamore Drive\n",
        {},
    ),
    (
        "<demo-balance-maria@example.com>",
        "=?utf-8?q?Mar=C3=ADa_Gonz=C3=A1lez?= <maria.gonzalez@example.com>",
        "=?utf-8?q?=C2=BFCu=C3=A1nto_debo=3F?=",
        "Hola,\n\n¿Cuánto debo en mi cuenta de agua? Gracias.\n\nMaría\n",
        {},
    ),
    (
        "<demo-restore-tenant@example.org>",
        "Pat Tenant <pat.tenant@example.org>",
        "Account 1001139 - water shut off",
        "Hi, the water at 1409 Birch Lane was shut off. How much do we need to pay to get "
        "it turned back on?\n",
        {},
    ),
    (
        "<demo-quality-linh@example.com>",
        "Linh Tran <linh.tran@example.com>",
        "Is the tap water safe?",
        "Hello, is it safe to drink the tap water at 88 Willow Way right now? "
        "A neighbor mentioned a notice.\n\nLinh\n",
        {},
    ),
    (
        "<demo-ooo@example.net>",
        "Facilities Desk <facilities@example.net>",
        "Automatic reply: Water main work on Maple Avenue",
        "I am out of the office until Monday and will reply when I return.\n",
        {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    ),
]


def demo_messages(now: datetime | None = None) -> list[bytes]:
    """The demo emails as raw bytes."""
    when = format_datetime(now or datetime.now(UTC))
    raws = []
    for message_id, sender, subject, body, extra in DEMO_MAIL:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = DISTRICT
        message["Subject"] = subject
        message["Date"] = when
        message["Message-ID"] = message_id
        for name, value in extra.items():
            message[name] = value
        message.set_content(body)
        raws.append(message.as_bytes(policy=SMTP))
    return raws


def _existing_ids(box: mailbox.Maildir) -> set[str]:
    ids: set[str] = set()
    folders = [box] + [box.get_folder(name) for name in box.list_folders()]
    for folder in folders:
        for key in folder.iterkeys():
            ids.add(parse_email(folder.get_bytes(key)).message_id)
    return ids


def write_demo_mail(maildir: Path, *, now: datetime | None = None) -> int:
    """Put the demo emails into ``maildir``; returns how many were new."""
    box = mailbox.Maildir(maildir, create=True)
    existing = _existing_ids(box)
    written = 0
    for raw in demo_messages(now):
        if parse_email(raw).message_id in existing:
            continue
        box.add(raw)
        written += 1
    return written
