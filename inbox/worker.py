"""The inbox worker: one per mailbox (database lease), nothing lost, nothing twice.

For each message waiting in the source:

1. parse it (attachments stored under ``attachment_root/<hash of Message-ID>``);
2. if its Message-ID is already in ``processed_emails``, the work was done and
   committed by an earlier pass that died before filing it: only file it;
3. otherwise triage it and write the ``processed_emails`` row, the contact log,
   tickets and the queued reply in ONE transaction and commit;
4. only then move the message to ``Triaged/<Outcome>``.

A worker killed anywhere in this sequence leaves either nothing (redo) or a
committed row (file only), so no reply is ever queued twice. Replies are sent
by :class:`inbox.outbox.EmailOutbox`, separately, with retries.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from accounts.clock import Clock
from accounts.models import MailboxLease, ProcessedEmail
from inbox.classify import ClassifierUnavailable
from inbox.parse import DEFAULT_MAX_ATTACHMENT_BYTES, ParsedEmail, parse_email
from inbox.sources import FetchedMail, MailSource, MailSourceError, Outcome
from inbox.triage import Triage, TriageResult

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker holds this mailbox now; stop processing (a system condition)."""


# Failures of the environment, not of the message: the message stays for the next pass.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ClassifierUnavailable,
    MailSourceError,
    DBAPIError,
)


def default_holder() -> str:
    """An identifier of this worker process (host and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassReport:
    """What one pass over the inbox did."""

    fetched: int = 0
    processed: int = 0
    refiled: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: int = 0


class MailboxLeaseManager:
    """A row per mailbox says who may read it until when.

    Args:
        session_factory: Makes database sessions.
        clock: The clock.
        mailbox: The mailbox name (``MailSource.name``).
        holder: This worker's identifier.
        ttl: How long a lease lasts without renewal.
    """

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        clock: Clock,
        mailbox: str,
        holder: str,
        ttl: timedelta = timedelta(seconds=90),
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self.mailbox = mailbox
        self.holder = holder
        self.ttl = ttl
        self._held_until: datetime | None = None

    def acquire(self) -> bool:
        """Take or renew the lease; False when another live worker holds it."""
        now = self._clock.now()
        with self._sessions() as session:
            lease = session.scalars(
                select(MailboxLease).where(MailboxLease.mailbox == self.mailbox).with_for_update()
            ).first()
            if lease is None:
                expires = now + self.ttl
                session.add(
                    MailboxLease(mailbox=self.mailbox, holder=self.holder, expires_at=expires)
                )
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    return False
                self._held_until = expires
                return True
            if lease.holder != self.holder and lease.expires_at > now:
                session.rollback()
                self._held_until = None
                return False
            lease.holder = self.holder
            lease.expires_at = now + self.ttl
            session.commit()
            self._held_until = lease.expires_at
            return True

    def ensure(self) -> bool:
        """Renew the lease only when half of it has run out (saves a commit per message)."""
        now = self._clock.now()
        if self._held_until is not None and now < self._held_until - self.ttl / 2:
            return True
        return self.acquire()

    def release(self) -> None:
        """Give the lease up (on a clean stop) so another worker need not wait."""
        with self._sessions() as session:
            lease = session.get(MailboxLease, self.mailbox)
            if lease is not None and lease.holder == self.holder:
                session.delete(lease)
                session.commit()
        self._held_until = None


class InboxWorker:
    """Processes a mailbox.

    Args:
        source: Where mail comes from (IMAP or Maildir); already constructed.
        session_factory: Makes database sessions.
        triage: Decides and records what to do with each email.
        lease: The mailbox lease.
        clock: The clock.
        attachment_root: Where attachments are stored.
        max_attachment_bytes: Larger attachments keep metadata only.
        batch_size: Messages fetched per pass.
    """

    def __init__(
        self,
        *,
        source: MailSource,
        session_factory: sessionmaker[Session],
        triage: Triage,
        lease: MailboxLeaseManager,
        clock: Clock,
        attachment_root: Path,
        max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
        batch_size: int = 100,
    ) -> None:
        self.source = source
        self._sessions = session_factory
        self.triage = triage
        self.lease = lease
        self._clock = clock
        self._attachments = attachment_root
        self._max_attachment = max_attachment_bytes
        self.batch_size = batch_size

    def run_pass(self, *, max_batches: int | None = None) -> PassReport:
        """Process what is waiting now (in batches) while holding the lease.

        Args:
            max_batches: Stop after this many batches (``None``: until the inbox is empty).

        Raises:
            LeaseLost: Another worker holds the mailbox.
        """
        report = PassReport()
        if not self.lease.acquire():
            raise LeaseLost(self.lease.mailbox)
        batches = 0
        while True:
            items = self.source.fetch_pending(limit=self.batch_size)
            batches += 1
            report.fetched += len(items)
            filing: dict[Outcome, list[str]] = {}
            parsed_batch = [self._parse_quietly(item) for item in items]
            done = self._already_processed([p for p in parsed_batch if p is not None])
            self.triage.prefetch(
                [p for p in parsed_batch if p is not None and p.message_id not in done]
            )
            try:
                for item, parsed in zip(items, parsed_batch, strict=True):
                    # Renewing during the batch keeps a long one (20 MB mails, slow NLU) leased.
                    if not self.lease.ensure():
                        raise LeaseLost(self.lease.mailbox)
                    try:
                        outcome = self.process(item, report, file=False, parsed=parsed, done=done)
                    except TRANSIENT_ERRORS:
                        raise
                    except Exception:
                        # One message that breaks triage must not block the mailbox forever.
                        log.exception("email could not be triaged; handing it to a person")
                        report.errors += 1
                        outcome = self.hand_to_person(item, file=False)
                    filing.setdefault(outcome, []).append(item.key)
                    report.outcomes[outcome.value] = report.outcomes.get(outcome.value, 0) + 1
            except Exception:
                # What was committed is filed now rather than refiled by the next pass.
                self._file(filing)
                raise
            finally:
                self.triage.discard_prefetched()
            # Filed after the commits, one MOVE per folder: a crash before this refiles.
            self._file(filing)
            if len(items) < self.batch_size or (max_batches and batches >= max_batches):
                return report

    def _parse(self, raw: bytes) -> ParsedEmail:
        return parse_email(
            raw,
            attachment_dir=self._attachment_dir_for(raw),
            max_attachment_bytes=self._max_attachment,
        )

    def _parse_quietly(self, item: FetchedMail) -> ParsedEmail | None:
        # A message that cannot be parsed is parsed again in `process`, where the
        # failure hands it to a person like any other triage failure.
        try:
            return self._parse(item.raw)
        except Exception:
            return None

    def _already_processed(self, batch: list[ParsedEmail]) -> dict[str, Outcome]:
        """Outcomes of the batch's messages committed by an earlier pass (one query)."""
        if not batch:
            return {}
        with self._sessions() as session:
            rows = session.execute(
                select(ProcessedEmail.message_id, ProcessedEmail.outcome).where(
                    ProcessedEmail.message_id.in_({p.message_id for p in batch})
                )
            ).all()
        return {message_id: Outcome(outcome) for message_id, outcome in rows}

    def _file(self, filing: dict[Outcome, list[str]]) -> None:
        for outcome, keys in filing.items():
            self.source.move_many(keys, outcome)

    def process(
        self,
        item: FetchedMail,
        report: PassReport | None = None,
        *,
        file: bool = True,
        parsed: ParsedEmail | None = None,
        done: dict[str, Outcome] | None = None,
    ) -> Outcome:
        """Triage (once) and, with ``file``, file one message.

        Args:
            item: The message as fetched.
            report: Counts to update.
            file: Move the message to its folder after the commit.
            parsed: ``item`` already parsed (by the batch).
            done: Outcomes already committed for the batch's Message-IDs (looked up
                in one query by the batch); updated here. Without it, one lookup.
        """
        if parsed is None:
            parsed = self._parse(item.raw)
        with self._sessions() as session:
            if done is None:
                done = self._already_processed([parsed])
            previous = done.get(parsed.message_id)
            if previous is not None:
                outcome = previous
                if report is not None:
                    report.refiled += 1
            else:
                result = self.triage.handle(session=session, parsed=parsed)
                self._mark_processed(session, parsed.message_id, result)
                session.commit()
                outcome = done[parsed.message_id] = result.outcome
                if report is not None:
                    report.processed += 1
                log.info(
                    "email %s: %s (%s, intent %s)",
                    result.conversation_id or "-",
                    outcome.value,
                    result.reason,
                    result.intent or "-",
                )
        # Filed only after the commit: a crash before this line refiles, never re-answers.
        if file:
            self.source.move(item.key, outcome)
        return outcome

    def hand_to_person(self, item: FetchedMail, *, file: bool = True) -> Outcome:
        """File a message triage failed on as a ticket for a CSR (in a fresh transaction)."""
        parsed = parse_email(item.raw)
        with self._sessions() as session:
            if not self._already_processed([parsed]):
                result = self.triage.hand_to_person(session=session, parsed=parsed)
                self._mark_processed(session, parsed.message_id, result)
                session.commit()
        if file:
            self.source.move(item.key, Outcome.ESCALATED)
        return Outcome.ESCALATED

    def _mark_processed(self, session: Session, message_id: str, result: TriageResult) -> None:
        session.add(
            ProcessedEmail(
                message_id=message_id,
                mailbox=self.lease.mailbox,
                outcome=result.outcome.value,
                processed_at=self._clock.now(),
                conversation_id=result.conversation_id,
                ticket_id=result.ticket_id,
            )
        )
        session.flush()

    def _attachment_dir_for(self, raw: bytes) -> Path:
        digest = hashlib.sha256(raw).hexdigest()[:24]
        return self._attachments / digest
