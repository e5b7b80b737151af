"""Wiring of the inbox from the gateway's services, and the long-running loop.

Entry points (``assistant inbox run|poll``) call :func:`build_inbox` with the
service container (mail source, email sender and NLU are built there); tests
hand in their own parts (Dovecot, aiosmtpd, a fixed clock).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.exc import DBAPIError

from accounts.clock import Clock
from accounts.deps import CoreServices
from accounts.email_message import EmailSender
from inbox.classify import Classifier, ClassifierUnavailable
from inbox.outbox import DrainReport, EmailOutbox
from inbox.sources import MailSource, MailSourceError
from inbox.triage import Triage, TriageSettings
from inbox.worker import InboxWorker, LeaseLost, MailboxLeaseManager, PassReport, default_holder

log = logging.getLogger(__name__)

IDLE_SECONDS = 25.0
IDLE_SLICE_SECONDS = 5.0
ERROR_BACKOFF_SECONDS = 10.0
# Requests to the NLU in flight while the worker triages: two keep Rasa busy
# without queueing more than a batch's worth of work on it.
CLASSIFY_THREADS = 2


@dataclass
class Inbox:
    """A worker and its outbox."""

    worker: InboxWorker
    outbox: EmailOutbox
    clock: Clock

    async def poll_once(self) -> tuple[PassReport, DrainReport]:
        """One pass: triage what is waiting, then send what is due."""
        report = await asyncio.to_thread(self.worker.run_pass)
        drained = await self.outbox.drain_once()
        return report, drained

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: triage a batch, send what is due, repeat; IDLE when empty.

        Sending between batches (not beside them) keeps one writer on the
        database at a time, which is what SQLite does best; a backlog's
        replies still leave batch by batch.
        """
        # An unreachable mail server at start-up must not stop the other processes
        # (`assistant run` supervises them together): keep trying.
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.worker.source.open)
                break
            except MailSourceError as error:
                log.warning("mailbox unavailable: %s", error)
                await _sleep_or_stop(stop, ERROR_BACKOFF_SECONDS)
        try:
            while not stop.is_set():
                fetched = 0
                failed = False
                try:
                    report = await asyncio.to_thread(self.worker.run_pass, max_batches=1)
                    fetched = report.fetched
                except LeaseLost:
                    log.info("another worker holds the mailbox; waiting")
                    await _sleep_or_stop(stop, self.worker.lease.ttl.total_seconds() / 3)
                    continue
                except (ClassifierUnavailable, MailSourceError, DBAPIError) as error:
                    # The mail stays where it is; the next pass picks it up.
                    log.warning("inbox pass interrupted: %s", type(error).__name__)
                    failed = True
                try:
                    await self.outbox.drain_once()
                except Exception:
                    # The database may be briefly unavailable; sending resumes next round.
                    log.exception("sending queued email failed")
                if failed:
                    await _sleep_or_stop(stop, ERROR_BACKOFF_SECONDS)
                elif fetched == 0:
                    try:
                        await self._wait_for_mail(stop)
                    except MailSourceError as error:
                        log.warning("mailbox unavailable: %s", error)
                        await _sleep_or_stop(stop, ERROR_BACKOFF_SECONDS)
        finally:
            await asyncio.to_thread(self.worker.source.close)
            await asyncio.to_thread(self.worker.lease.release)

    async def _wait_for_mail(self, stop: asyncio.Event) -> None:
        # IDLE in short slices: a blocked thread cannot be interrupted, and Ctrl-C
        # should not wait for the whole idle period.
        deadline = asyncio.get_running_loop().time() + self._wait()
        while not stop.is_set():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            slice_ = min(remaining, IDLE_SLICE_SECONDS)
            if await asyncio.to_thread(self.worker.source.wait_for_mail, slice_):
                return

    def _wait(self) -> float:
        wait = IDLE_SECONDS
        due = self.outbox.next_due()
        if due is not None:
            # Wake up for the next SMTP retry.
            wait = max(1.0, min(wait, (due - self.clock.now()).total_seconds()))
        # The lease must be renewed before it runs out.
        return min(wait, self.worker.lease.ttl.total_seconds() / 3)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


class InboxServices(CoreServices, Protocol):
    """What the inbox uses from the gateway's service container."""

    @property
    def mail_source(self) -> MailSource: ...

    @property
    def email_sender(self) -> EmailSender: ...

    @property
    def nlu(self) -> Classifier: ...


def own_addresses(services: CoreServices) -> frozenset[str]:
    """Every address that is the district itself (never auto-answered)."""
    settings = services.settings
    addresses = {services.district.contact.email, *services.district.email.own_addresses}
    for extra in (settings.smtp.from_address, settings.imap.user):
        if "@" in extra:
            addresses.add(extra.lower())
    return frozenset(a.lower() for a in addresses)


def build_inbox(
    services: InboxServices,
    *,
    source: MailSource | None = None,
    sender: EmailSender | None = None,
    classifier: Classifier | None = None,
    holder: str | None = None,
    lease_ttl: timedelta = timedelta(seconds=90),
    executor: Executor | None = None,
) -> Inbox:
    """The inbox on the container's mailbox, sender and NLU; any part may be handed in instead.

    Args:
        services: Settings, database, clock, district, and the default parts.
        source: Mail source (default: the container's).
        sender: Email sender (default: the container's).
        classifier: The NLU (default: the container's).
        holder: Lease holder id (default host:pid).
        lease_ttl: Mailbox lease length.
        executor: Threads that classify a batch ahead of its triage (owned by the
            caller); without it each email is classified when it is triaged.
    """
    settings = services.settings
    source = source or services.mail_source
    triage = Triage(
        TriageSettings(
            district=services.district,
            calendar=services.calendar,
            classifier=classifier or services.nlu,
            mailbox=source.name,
            from_address=settings.smtp.from_address or services.district.contact.email,
            own_addresses=own_addresses(services),
            reply_cap_per_day=services.district.email.auto_reply_cap_per_sender_per_day,
        ),
        now=services.clock.now,
        executor=executor,
    )
    lease = MailboxLeaseManager(
        session_factory=services.session_factory,
        clock=services.clock,
        mailbox=source.name,
        holder=holder or default_holder(),
        ttl=lease_ttl,
    )
    worker = InboxWorker(
        source=source,
        session_factory=services.session_factory,
        triage=triage,
        lease=lease,
        clock=services.clock,
        attachment_root=settings.var_dir / "attachments",
    )
    outbox = EmailOutbox(
        session_factory=services.session_factory,
        sender=sender or services.email_sender,
        clock=services.clock,
    )
    return Inbox(worker=worker, outbox=outbox, clock=services.clock)
