"""A district's trial: fifteen realistic emails through the worker with the real Rasa model.

The demo data (``seed_demo``), a Maildir source and the Maildir ``Sent`` folder,
as ``assistant inbox poll --once`` runs in the demo; the NLU is the trained model
in the real Rasa server, read ahead of triage by a thread pool as in production.
"""

from __future__ import annotations

import asyncio
import mailbox
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import ContactPoint, ProcessedEmail, ServiceRequest, Ticket
from accounts.services.consent import is_opted_out
from accounts.settings import Settings
from inbox.classify import RasaClassifier
from inbox.outbox import MaildirSender
from inbox.service import CLASSIFY_THREADS, build_inbox
from inbox.sources import MaildirSource
from tests.inbox.harness import services_for
from tests.inbox.trial_mail import REPLY_TO_US_ID, TrialMail, trial_mail
from tests.utils.rasa import RasaStack


def _replies(maildir: Path) -> dict[str, EmailMessage]:
    """Replies in the Maildir's ``Sent`` folder, by the Message-ID they answer."""
    folder = mailbox.Maildir(maildir, create=False).get_folder("Sent")
    replies = {}
    for key in folder.iterkeys():
        message = BytesParser(policy=default).parsebytes(folder.get_bytes(key))
        assert isinstance(message, EmailMessage)
        replies[str(message["In-Reply-To"])] = message
    return replies


def _plain(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.rasa
def test_district_trial(
    rasa_stack: RasaStack,
    seeded: Session,
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    mails = trial_mail()
    # The reply to our auto-reply goes in after that auto-reply exists, threaded to it.
    (follow_up,) = [m for m in mails if REPLY_TO_US_ID.encode() in m.raw]
    maildir = tmp_path / "maildir"
    inbox_dir = mailbox.Maildir(maildir, create=True)
    for mail in mails:
        if mail is not follow_up:
            inbox_dir.add(mail.raw)

    containers = services_for(settings, engine, clock)
    services = next(containers)
    try:
        with httpx.Client() as http, ThreadPoolExecutor(CLASSIFY_THREADS) as executor:
            inbox = build_inbox(
                services,
                source=MaildirSource(maildir),
                sender=MaildirSender(maildir),
                classifier=RasaClassifier(
                    http=http, base_url=rasa_stack.rasa_url, token=rasa_stack.token
                ),
                executor=executor,
            )
            inbox.worker.source.open()
            first, drained = asyncio.run(inbox.poll_once())
            ours = _replies(maildir)["<trial-balance-dana@mail.example.com>"]["Message-ID"]
            inbox_dir.add(follow_up.raw.replace(REPLY_TO_US_ID.encode(), str(ours).encode()))
            second, _ = asyncio.run(inbox.poll_once())
            inbox.worker.source.close()
    finally:
        containers.close()
    assert first.processed == len(mails) - 1 and second.processed == 1
    assert first.errors == second.errors == drained.failed == 0

    seeded.rollback()
    sent = _replies(maildir)
    problems: list[str] = []
    for mail in mails:
        problems.extend(_check(seeded, mail, sent))
    assert not problems, "\n".join(problems)

    # The side effects a district relies on.
    assert is_opted_out(session=seeded, address="maria.gonzalez@example.com", channel="email")
    bounced = seeded.scalars(
        select(ContactPoint).where(ContactPoint.value == "linh.tran@example.com")
    ).one()
    assert bounced.undeliverable
    leak = seeded.scalars(select(Ticket).where(Ticket.intent == "leak_adjustment")).one()
    assert [a["filename"] for a in leak.attachments] == ["plumber-invoice-1118.pdf"]
    emergency = seeded.scalars(select(Ticket).where(Ticket.priority == 0)).one()
    assert emergency.intent == "report_emergency"
    request = seeded.scalars(select(ServiceRequest).where(ServiceRequest.type == "emergency")).one()
    assert request.address == "1409 Birch Lane"
    thanks = seeded.scalars(
        select(ProcessedEmail).where(ProcessedEmail.message_id == "<trial-thanks@mail.example.com>")
    ).one()
    balance = seeded.scalars(
        select(ProcessedEmail).where(
            ProcessedEmail.message_id == "<trial-balance-dana@mail.example.com>"
        )
    ).one()
    assert thanks.conversation_id == balance.conversation_id  # threaded, not a new case
    stop = seeded.scalars(select(Ticket).where(Ticket.intent == "stop_service")).all()
    assert stop == [], "'stop emailing me' must never become a stop-service case"


def _check(session: Session, mail: TrialMail, sent: dict[str, EmailMessage]) -> list[str]:
    message_id = _message_id(mail.raw)
    row = session.scalars(
        select(ProcessedEmail).where(ProcessedEmail.message_id == message_id)
    ).one()
    found: list[str] = []
    if row.outcome != mail.outcome:
        found.append(f"{mail.name}: {row.outcome}, expected {mail.outcome}")
    if mail.ticket_reason is not None:
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
        reason = ticket.reason if ticket else None
        if reason != f"email: {mail.ticket_reason}":
            found.append(f"{mail.name}: ticket reason {reason!r}, expected {mail.ticket_reason}")
    reply = _plain(sent[message_id]) if message_id in sent else None
    if mail.reply != (reply is not None):
        found.append(f"{mail.name}: reply {'sent' if reply else 'missing'}")
    for text in mail.reply_contains:
        if reply is None or text not in reply:
            found.append(f"{mail.name}: reply lacks {text!r}")
    for text in mail.reply_lacks:
        if reply is not None and text in reply:
            found.append(f"{mail.name}: reply must not contain {text!r}")
    return found


def _message_id(raw: bytes) -> str:
    return str(BytesParser(policy=default).parsebytes(raw, headersonly=True)["Message-ID"])
