"""The whole inbox loop: Dovecot in, triage on both databases, replies to aiosmtpd.

The worker writes through its own sessions; ``seeded.rollback()`` ends the test
session's read transaction so that it sees what the worker committed (a SQLite
WAL reader keeps its snapshot until then).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import (
    Account,
    ContactLog,
    ContactPoint,
    OutboundMessage,
    ProcessedEmail,
    ServiceRequest,
    Ticket,
)
from accounts.settings import Settings
from gateway.services import Services
from inbox.classify import Classification, ClassifierUnavailable
from inbox.outbox import EmailOutbox, MaildirSender
from inbox.parse import parse_email
from inbox.reply import SmtpSender
from inbox.service import Inbox
from inbox.sources import FetchedMail, MaildirSource, MailSource, Outcome
from inbox.worker import LeaseLost
from tests.inbox import corpus
from tests.inbox.harness import RuleClassifier, imap_source, make_inbox, services_for
from tests.utils.dovecot import DovecotUser
from tests.utils.servers import free_port
from tests.utils.smtp_server import SmtpTestServer

pytestmark = pytest.mark.dovecot

DISTRICT = corpus.DISTRICT


@pytest.fixture
def services(
    seeded: Session, settings: Settings, engine: Engine, clock: FixedClock
) -> Iterator[Services]:
    yield from services_for(settings, engine, clock)


@pytest.fixture
def smtp_sender(smtp_server: SmtpTestServer) -> SmtpSender:
    return SmtpSender(host=smtp_server.host, port=smtp_server.port, timeout=5)


@pytest.fixture
def inbox(services: Services, dovecot: DovecotUser, smtp_sender: SmtpSender) -> Iterator[Inbox]:
    inbox = make_inbox(services, source=imap_source(dovecot), sender=smtp_sender)
    yield inbox
    inbox.worker.source.close()


def _poll(inbox: Inbox) -> None:
    asyncio.run(inbox.poll_once())


def _account(session: Session, number: str) -> Account:
    account = session.scalars(select(Account).where(Account.number == number)).one()
    return account


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# ----------------------------------------------------------------------------- answers


def test_outage_question_answered_threaded_and_logged(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(corpus.plain())  # Dana: "Is there an outage on Oak Street?"
    _poll(inbox)

    counts = dovecot.folder_counts()
    assert counts["INBOX"] == 0 and counts["Triaged.Answered"] == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["dana.whitfield@example.com"]
    reply = mail.message
    assert reply["Subject"] == "Re: Question about my water"
    assert reply["In-Reply-To"] == "<plain-1@mail.example.com>"
    assert reply["References"] == "<plain-1@mail.example.com>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply.get_content_type() == "multipart/alternative"
    text = _plain(reply)
    assert "water main break on the 400-700 blocks of Oak Street" in text
    assert "Valley Springs Water District — Customer Service" in text  # district signature

    seeded.rollback()
    dana = _account(seeded, "1000417")
    entries = seeded.scalars(
        select(ContactLog)
        .where(ContactLog.account_id == dana.id, ContactLog.channel == "email")
        .order_by(ContactLog.id)
    ).all()
    assert [(e.direction, e.kind) for e in entries] == [
        ("inbound", "message"),
        ("outbound", "message"),
    ]
    assert entries[0].external_id == "<plain-1@mail.example.com>"
    assert entries[0].conversation_id == entries[1].conversation_id is not None
    assert entries[1].external_id == str(reply["Message-ID"]).strip()
    processed = seeded.scalars(select(ProcessedEmail)).one()
    assert processed.outcome == "answered"
    row = seeded.scalars(select(OutboundMessage)).one()
    assert row.status == "sent" and row.attempts == 1


def test_balance_in_spanish_for_sender_on_file(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer
) -> None:
    dovecot.append(corpus.spanish_latin1())  # María, on file, asks "¿Cuánto debo?"
    _poll(inbox)
    (mail,) = smtp_server.wait_for(1)
    text = _plain(mail.message)
    assert text.startswith("Hola María,")
    assert "$212.40" in text
    assert "Servicio al Cliente" in text
    assert dovecot.folder_counts()["Triaged.Answered"] == 1


def test_tier1_from_unknown_sender_gets_no_account_data(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(corpus.account_in_subject())  # tenant@example.org, "Account 1001139"
    _poll(inbox)
    (mail,) = smtp_server.wait_for(1)
    text = _plain(mail.message)
    assert "only share account details by email with the address on file" in text
    for secret in ("356.18", "311.18", "1409 Birch", "James"):
        assert secret not in text
    seeded.rollback()
    james = _account(seeded, "1001139")
    # The contact is still logged on the account the customer named.
    assert (
        _count(
            seeded, ContactLog, ContactLog.account_id == james.id, ContactLog.direction == "inbound"
        )
        == 1
    )


def test_restoration_for_sender_on_file(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    # Put an email on James's file first: now he is the verified sender.
    james = _account(seeded, "1001139")
    seeded.add(
        ContactPoint(customer_id=james.customer_id, kind="email", value="james.okafor@example.com")
    )
    seeded.commit()
    dovecot.append(
        corpus.plain(
            sender="james.okafor@example.com",
            subject="water shut off",
            body="My water was shut off. How do I get it turned back on?",
            message_id="<james@x>",
        )
    )
    _poll(inbox)
    (mail,) = smtp_server.wait_for(1)
    assert "$356.18" in _plain(mail.message)


def test_dispute_becomes_ticket_with_big_attachment_metadata(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(corpus.big_attachment())  # Robert, 20 MB video, "bill is way too high"
    _poll(inbox)
    assert dovecot.folder_counts()["Triaged.Escalated"] == 1
    seeded.rollback()
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.intent == "billing_dispute"
    assert ticket.channel == "email"
    assert ticket.account_id == _account(seeded, "1002001").id
    assert "bill is way too high" in ticket.summary
    (attachment,) = ticket.attachments
    assert attachment["filename"] == "leak video.mp4"
    assert attachment["size"] == 20 * 1024 * 1024
    assert attachment["over_cap"] is True and attachment["stored_path"] is None
    (mail,) = smtp_server.wait_for(1)
    assert f"case #{ticket.id}" in _plain(mail.message)


def test_emergency_opens_urgent_ticket(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(corpus.forwarded_chain())  # forwarded "water gushing ... hydrant"
    _poll(inbox)
    seeded.rollback()
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.intent == "report_emergency"
    assert ticket.priority == 0
    request = seeded.scalars(select(ServiceRequest)).one()
    assert (request.type, request.priority, request.source_channel) == (
        "emergency",
        "emergency",
        "email",
    )
    (mail,) = smtp_server.wait_for(1)
    assert "emergency" in _plain(mail.message).lower()


def test_multi_topic_goes_to_a_person(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    # A question the bot could answer, and a second request in its own sentence:
    # answering the first alone would leave the second unanswered.
    dovecot.append(
        corpus.plain(
            sender="robert.hale@example.com",
            subject="two things",
            body="How much do I owe this month? Also, I want to start service at my new house.",
            message_id="<multi@x>",
        )
    )
    _poll(inbox)
    seeded.rollback()
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.reason == "email: multi-topic"
    assert dovecot.folder_counts()["Triaged.Escalated"] == 1
    (reply,) = smtp_server.wait_for(1)
    assert "412.88" not in reply.message.as_string()  # no half answer


def test_customer_reply_joins_the_open_ticket(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(
        corpus.plain(
            sender="robert.hale@example.com",
            subject="My bill",
            body="My bill is four times my usual amount.",
            message_id="<dispute-1@x>",
        )
    )
    _poll(inbox)
    (ack,) = smtp_server.wait_for(1)
    dovecot.append(corpus.reply_with_quote(in_reply_to=str(ack.message["Message-ID"])))
    _poll(inbox)

    seeded.rollback()
    ticket = seeded.scalars(select(Ticket)).one()  # still one ticket
    followup = seeded.scalars(
        select(ContactLog).where(ContactLog.external_id == "<reply-quote@mail.example.com>")
    ).one()
    assert followup.ticket_id == ticket.id
    assert followup.conversation_id == ticket.conversation_id
    assert len(smtp_server.messages) == 1  # no bot reply on a case a person holds
    assert dovecot.folder_counts()["Triaged.Escalated"] == 2


def test_reply_to_an_answer_continues_the_conversation(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(corpus.plain())  # Dana: outage question, answered
    _poll(inbox)
    (first,) = smtp_server.wait_for(1)
    our_id = str(first.message["Message-ID"]).strip()
    dovecot.append(
        corpus.plain(
            subject="Re: Question about my water",
            body="Thanks. How much do I owe this month?\n\nOn Tue someone wrote:\n> old text",
            message_id="<dana-2@mail.example.com>",
            extra_headers={
                "In-Reply-To": our_id,
                "References": f"<plain-1@mail.example.com> {our_id}",
            },
        )
    )
    _poll(inbox)
    second = smtp_server.wait_for(2)[1].message
    assert second["In-Reply-To"] == "<dana-2@mail.example.com>"
    assert second["References"].split() == [
        "<plain-1@mail.example.com>",
        our_id,
        "<dana-2@mail.example.com>",
    ]
    assert "$84.20" in _plain(second)
    seeded.rollback()
    conversations = {
        entry.conversation_id
        for entry in seeded.scalars(select(ContactLog).where(ContactLog.channel == "email"))
    }
    assert len(conversations) == 1


def test_thank_you_needs_no_answer_and_no_ticket(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(
        corpus.plain(subject="Re: Question about my water", body="Thanks!", message_id="<thanks@x>")
    )
    _poll(inbox)
    assert dovecot.folder_counts()["Triaged.Ignored"] == 1
    seeded.rollback()
    assert _count(seeded, Ticket) == 0
    assert _count(seeded, OutboundMessage) == 0
    assert _count(seeded, ContactLog, ContactLog.external_id == "<thanks@x>") == 1


# ----------------------------------------------------------------------------- no loops


LOOP_MAIL = {
    "auto-submitted": corpus.auto_reply(),
    "precedence": corpus.plain(message_id="<bulk@x>", extra_headers={"Precedence": "bulk"}),
    "list": corpus.plain(message_id="<list@x>", extra_headers={"List-Id": "<n.example.com>"}),
    "empty-return-path": corpus.plain(message_id="<rp@x>", extra_headers={"Return-Path": "<>"}),
    "system-sender": corpus.plain(sender="mailer-daemon@example.net", message_id="<md@x>"),
    "own-address": corpus.plain(sender=DISTRICT, message_id="<own@x>"),
    "bounce": corpus.bounce_plain(),
}


def test_loop_prevention_rules_never_answer(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append_many(list(LOOP_MAIL.values()))
    _poll(inbox)
    counts = dovecot.folder_counts()
    assert counts["INBOX"] == 0
    assert counts["Triaged.Ignored"] == len(LOOP_MAIL)
    seeded.rollback()
    assert _count(seeded, OutboundMessage) == 0
    assert smtp_server.messages == []
    assert _count(seeded, ProcessedEmail, ProcessedEmail.outcome == "ignored") == len(LOOP_MAIL)


def test_daily_cap_per_sender(
    inbox: Inbox,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
    seeded: Session,
    clock: FixedClock,
) -> None:
    cap = inbox.worker.triage.settings.reply_cap_per_day
    assert cap == 3  # from the district file
    dovecot.append_many(
        [
            corpus.plain(
                subject=f"office hours {i}",
                body="When is the office open on Friday?",
                message_id=f"<cap-{i}@x>",
            )
            for i in range(cap + 2)
        ]
    )
    _poll(inbox)
    assert len(smtp_server.wait_for(cap)) == cap
    counts = dovecot.folder_counts()
    assert counts["Triaged.Answered"] == cap and counts["Triaged.Ignored"] == 2

    clock.advance(timedelta(hours=25))
    dovecot.append(
        corpus.plain(
            subject="office again", body="Are you open on Friday?", message_id="<cap-next-day@x>"
        )
    )
    _poll(inbox)
    assert len(smtp_server.wait_for(cap + 1)) == cap + 1


def test_bounce_marks_contact_undeliverable(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    dovecot.append(corpus.bounce_dsn("linh.tran@example.com"))
    _poll(inbox)
    seeded.rollback()
    point = seeded.scalars(
        select(ContactPoint).where(ContactPoint.value == "linh.tran@example.com")
    ).one()
    assert point.undeliverable and point.undeliverable_at is not None
    linh = _account(seeded, "1001560")
    assert (
        _count(seeded, ContactLog, ContactLog.account_id == linh.id, ContactLog.kind == "bounce")
        == 1
    )
    assert dovecot.folder_counts()["Triaged.Ignored"] == 1
    assert smtp_server.messages == []


# ----------------------------------------------------------------------------- nothing lost


def test_smtp_down_replies_wait_in_outbox_then_go(
    inbox: Inbox,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
    seeded: Session,
    clock: FixedClock,
) -> None:
    smtp_server.refuse = True
    dovecot.append(corpus.plain())
    report, drained = asyncio.run(inbox.poll_once())
    assert report.processed == 1 and drained.retrying == 1 and drained.sent == 0
    assert dovecot.folder_counts()["Triaged.Answered"] == 1  # triage is done regardless
    seeded.rollback()
    row = seeded.scalars(select(OutboundMessage)).one()
    assert row.status == "queued" and row.attempts == 1 and row.last_error

    # Not due yet: nothing is tried.
    assert asyncio.run(inbox.outbox.drain_once()).sent == 0
    smtp_server.refuse = False
    clock.advance(timedelta(minutes=1))
    assert asyncio.run(inbox.outbox.drain_once()).sent == 1
    assert len(smtp_server.wait_for(1)) == 1
    seeded.rollback()
    row = seeded.scalars(select(OutboundMessage)).one()
    assert row.status == "sent" and row.attempts == 2


def test_permanent_smtp_failure_is_not_retried(
    inbox: Inbox,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
    seeded: Session,
    clock: FixedClock,
) -> None:
    smtp_server.refuse_with("550 5.1.1 mailbox unavailable")
    dovecot.append(corpus.plain())
    _report, drained = asyncio.run(inbox.poll_once())
    assert drained.failed == 1
    clock.advance(timedelta(hours=2))
    assert asyncio.run(inbox.outbox.drain_once()).sent == 0
    seeded.rollback()
    row = seeded.scalars(select(OutboundMessage)).one()
    assert row.status == "failed" and row.attempts == 1 and "550" in row.last_error


def test_unreachable_smtp_is_tried_once_per_round(
    services: Services,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
    seeded: Session,
    clock: FixedClock,
) -> None:
    down = SmtpSender(host="127.0.0.1", port=free_port(), timeout=2)
    inbox = make_inbox(services, source=imap_source(dovecot), sender=down)
    dovecot.append_many(
        [corpus.plain(sender=f"p{i}@example.org", message_id=f"<u{i}@x>") for i in range(3)]
    )
    _report, drained = asyncio.run(inbox.poll_once())
    inbox.worker.source.close()
    assert (drained.sent, drained.retrying) == (0, 3)
    seeded.rollback()
    rows = seeded.scalars(select(OutboundMessage)).all()
    assert sorted(r.attempts for r in rows) == [0, 0, 1]
    assert {r.status for r in rows} == {"queued"}

    clock.advance(timedelta(minutes=1))
    back = EmailOutbox(
        session_factory=services.session_factory,
        sender=SmtpSender(host=smtp_server.host, port=smtp_server.port),
        clock=clock,
    )
    assert asyncio.run(back.drain_once()).sent == 3
    assert len(smtp_server.wait_for(3)) == 3


class Killed(BaseException):
    """A process killed at this point (not an Exception: nothing may catch it)."""


class KillOnMove:
    """Wraps a source; the n-th filing dies (after the commits, before the MOVE)."""

    def __init__(self, inner: MailSource, n: int) -> None:
        self.inner = inner
        self.n = n
        self.moves = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def move_many(self, keys: Sequence[str], outcome: Outcome) -> None:
        self.moves += 1
        if self.moves == self.n:
            raise Killed
        self.inner.move_many(keys, outcome)


class KillOnClassify(RuleClassifier):
    """Dies inside triage (before the commit) on the n-th call."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def classify(self, text: str) -> Classification:
        if self.calls + 1 == self.n:
            self.calls += 1
            raise Killed
        return super().classify(text)


def test_crash_and_resume_never_double_replies(
    services: Services,
    dovecot: DovecotUser,
    smtp_sender: SmtpSender,
    smtp_server: SmtpTestServer,
    seeded: Session,
    clock: FixedClock,
) -> None:
    total = 8
    dovecot.append_many(
        [
            corpus.plain(
                subject=f"q{i}",
                body="Is there an outage on Oak Street?",
                sender=f"person{i}@example.org",
                message_id=f"<crash-{i}@x>",
            )
            for i in range(total)
        ]
    )
    # Worker 1 dies inside triage of the 3rd message (nothing of it committed).
    first = make_inbox(
        services,
        source=imap_source(dovecot),
        sender=smtp_sender,
        classifier=KillOnClassify(3),
        holder="w1",
    )
    with pytest.raises(Killed):
        first.worker.run_pass()
    first.worker.source.close()
    # Worker 2 (batches of 4) files its first batch, then dies after committing the
    # second batch, before filing it.
    source2 = KillOnMove(imap_source(dovecot), n=2)
    second = make_inbox(
        services,
        source=source2,  # type: ignore[arg-type]
        sender=smtp_sender,
        holder="w2",
    )
    second.worker.batch_size = 4
    with pytest.raises(LeaseLost):  # w1's lease has not run out yet
        second.worker.run_pass()
    clock.advance(timedelta(seconds=91))
    with pytest.raises(Killed):
        second.worker.run_pass()
    source2.inner.close()
    assert dovecot.folder_counts()["Triaged.Answered"] == 4
    # Worker 3 finishes the job.
    clock.advance(timedelta(seconds=91))
    third = make_inbox(services, source=imap_source(dovecot), sender=smtp_sender, holder="w3")
    report, _drained = asyncio.run(third.poll_once())
    third.worker.source.close()

    # w1 committed 2 before dying; w2 refiled them with 2 new ones, then committed 4 more.
    assert (report.refiled, report.processed) == (4, 0)
    counts = dovecot.folder_counts()
    assert counts["INBOX"] == 0 and counts["Triaged.Answered"] == total
    seeded.rollback()
    assert _count(seeded, ProcessedEmail) == total
    assert _count(seeded, OutboundMessage) == total
    received = smtp_server.wait_for(total)
    assert len(received) == total
    assert sorted(str(m.message["In-Reply-To"]) for m in received) == sorted(
        f"<crash-{i}@x>" for i in range(total)
    )


def test_nlu_down_leaves_mail_in_inbox(
    services: Services, dovecot: DovecotUser, smtp_sender: SmtpSender, seeded: Session
) -> None:
    class Down:
        def classify(self, text: str) -> Classification:
            raise ClassifierUnavailable("Rasa is down")

    inbox = make_inbox(services, source=imap_source(dovecot), sender=smtp_sender, classifier=Down())
    dovecot.append(corpus.plain())
    with pytest.raises(ClassifierUnavailable):
        inbox.worker.run_pass()
    inbox.worker.source.close()
    assert dovecot.folder_counts()["INBOX"] == 1
    seeded.rollback()
    assert _count(seeded, ProcessedEmail) == 0
    assert _count(seeded, ContactLog, ContactLog.channel == "email") == 0


def test_run_loop_survives_nlu_outage_and_stops_cleanly(
    services: Services, dovecot: DovecotUser, smtp_sender: SmtpSender, seeded: Session
) -> None:
    class Flaky(RuleClassifier):
        down = True

        def classify(self, text: str) -> Classification:
            if self.down:
                raise ClassifierUnavailable("Rasa is down")
            return super().classify(text)

    classifier = Flaky()
    inbox = make_inbox(
        services, source=imap_source(dovecot), sender=smtp_sender, classifier=classifier
    )
    dovecot.append(corpus.plain())

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(inbox.run(stop))
        await asyncio.sleep(1.5)
        assert not task.done()  # an NLU outage does not end the worker
        assert dovecot.folder_counts()["INBOX"] == 1
        stop.set()
        await asyncio.wait_for(task, timeout=20)

    asyncio.run(scenario())
    assert dovecot.folder_counts()["INBOX"] == 1
    seeded.rollback()
    assert _count(seeded, ProcessedEmail) == 0


def test_message_that_breaks_triage_goes_to_a_person(
    services: Services, dovecot: DovecotUser, smtp_sender: SmtpSender, seeded: Session
) -> None:
    class Broken(RuleClassifier):
        def classify(self, text: str) -> Classification:
            if "poison" in text:
                raise ValueError("unexpected")
            return super().classify(text)

    inbox = make_inbox(
        services, source=imap_source(dovecot), sender=smtp_sender, classifier=Broken()
    )
    dovecot.append_many([corpus.plain(subject="poison", message_id="<p@x>"), corpus.plain()])
    report = inbox.worker.run_pass()
    inbox.worker.source.close()
    assert report.errors == 1
    counts = dovecot.folder_counts()
    assert counts["Triaged.Escalated"] == 1 and counts["Triaged.Answered"] == 1
    seeded.rollback()
    assert seeded.scalars(select(Ticket)).one().reason == "email: processing error"


def test_one_worker_per_mailbox(
    services: Services, dovecot: DovecotUser, smtp_sender: SmtpSender, clock: FixedClock
) -> None:
    first = make_inbox(services, source=imap_source(dovecot), sender=smtp_sender, holder="a")
    second = make_inbox(services, source=imap_source(dovecot), sender=smtp_sender, holder="b")
    assert first.worker.lease.acquire()
    assert not second.worker.lease.acquire()
    clock.advance(timedelta(seconds=30))
    assert first.worker.lease.acquire()  # renewal
    clock.advance(timedelta(seconds=80))
    assert not second.worker.lease.acquire()  # renewed 80 s ago, 90 s lease
    first.worker.lease.release()
    assert second.worker.lease.acquire()
    first.worker.source.close()
    second.worker.source.close()


# ----------------------------------------------------------------------------- corpus


def test_whole_corpus_through_the_loop(
    inbox: Inbox, dovecot: DovecotUser, smtp_server: SmtpTestServer, seeded: Session
) -> None:
    mail = corpus.build_corpus()
    dovecot.append_many(list(mail.values()))
    report, _drained = asyncio.run(inbox.poll_once())
    assert report.errors == 0
    assert report.processed == len(mail)
    assert dovecot.folder_counts()["INBOX"] == 0
    seeded.rollback()
    outcome = {row.message_id: row.outcome for row in seeded.scalars(select(ProcessedEmail))}
    expected = {
        "auto_reply": "ignored",
        "bounce_dsn": "ignored",
        "bounce_plain": "ignored",
        "empty_body": "escalated",
        "html_only_with_script": "answered",
        "spanish_latin1": "answered",
        "big_attachment": "escalated",
        "forwarded_chain": "escalated",
        "nested_multipart": "escalated",
        "account_in_subject": "answered",
    }
    for name, want in expected.items():
        assert outcome[parse_email(mail[name]).message_id] == want, name
    synthesized = parse_email(mail["no_message_id"]).message_id
    assert outcome[synthesized] == "answered"
    # HTML-only: the reply quotes nothing from the script.
    rebates = next(m for m in smtp_server.messages if m.message["Subject"] == "Re: rebates")
    assert "High-efficiency toilet rebate" in _plain(rebates.message)


# ----------------------------------------------------------------------------- demo Maildir


def test_demo_maildir_end_to_end(services: Services, tmp_path: Path, seeded: Session) -> None:
    from inbox.demo_mail import DEMO_MAIL, write_demo_mail

    maildir = tmp_path / "maildir"
    assert write_demo_mail(maildir) == len(DEMO_MAIL)
    assert write_demo_mail(maildir) == 0  # idempotent
    inbox = make_inbox(services, source=MaildirSource(maildir), sender=MaildirSender(maildir))
    report, drained = asyncio.run(inbox.poll_once())
    assert report.processed == len(DEMO_MAIL)
    assert report.outcomes == {"answered": 4, "escalated": 1, "ignored": 1}
    assert drained.sent == 5
    assert len(list((maildir / ".Sent" / "new").iterdir())) == 5
    assert not list((maildir / "new").iterdir())
    assert write_demo_mail(maildir) == 0  # already triaged: not written again
    item = FetchedMail(key="x", raw=b"")
    assert item.key == "x"
