"""Drain queued email from the outbox (``OutboundMessage``) to SMTP, with retry and backoff.

Replies are rows first, so an SMTP outage loses nothing: rows wait with a
growing ``next_attempt_at`` and go out when the server is back. A row is
claimed (status ``sending``, a lease time in ``next_attempt_at``) and
committed before the SMTP conversation, so two drainers never send the same
row; a drainer that dies mid-send leaves the row to be retried after the lease.
"""

from __future__ import annotations

import contextlib
import logging
import mailbox
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from accounts.clock import Clock
from accounts.email_message import EmailSender, ReplyDraft, SendError, SendFunction, render_email
from accounts.models import OutboundMessage
from accounts.redact import redact_pii

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min, … capped at an hour."""
    wait: timedelta = BASE_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(wait, MAX_BACKOFF)


@dataclass
class DrainReport:
    """What one drain pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def render_row(row: OutboundMessage) -> EmailMessage:
    """The MIME message for an outbox row."""
    draft = ReplyDraft(
        to_address=row.to_address,
        from_address=row.from_address,
        subject=row.subject,
        body_text=row.body,
        headers={str(k): str(v) for k, v in (row.headers or {}).items()},
    )
    return render_email(draft, html_body=row.html_body or None)


class EmailOutbox:
    """Sends due email rows.

    Args:
        session_factory: Makes database sessions.
        sender: Delivers rendered messages (SMTP in production).
        clock: The clock.
        max_attempts: Give up (status ``failed``) after this many tries.
    """

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        sender: EmailSender,
        clock: Clock,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._sessions = session_factory
        self._sender = sender
        self._clock = clock
        self._max_attempts = max_attempts

    def _claim(self, limit: int) -> list[OutboundMessage]:
        now = self._clock.now()
        with self._sessions() as session:
            statement = (
                select(OutboundMessage)
                .where(
                    OutboundMessage.channel == "email",
                    OutboundMessage.status.in_(("queued", "sending")),
                    OutboundMessage.next_attempt_at <= now,
                    or_(OutboundMessage.not_before.is_(None), OutboundMessage.not_before <= now),
                )
                .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = list(session.scalars(statement))
            for row in rows:
                row.status = "sending"
                row.next_attempt_at = now + SEND_LEASE
            session.commit()
            return rows

    async def drain_once(self, *, limit: int = 200) -> DrainReport:
        """Send every due row (up to ``limit``) once."""
        report = DrainReport()
        rows = self._claim(limit)
        if not rows:
            return report
        async with self._sender.session() as send:
            for index, row in enumerate(rows):
                try:
                    await send(render_row(row))
                except SendError as error:
                    self._failed(row.id, error)
                    if error.permanent or row.attempts + 1 >= self._max_attempts:
                        report.failed += 1
                    else:
                        report.retrying += 1
                    if error.connection:
                        # Server unreachable: do not spend a timeout on every other row.
                        self._release([r.id for r in rows[index + 1 :]], row.attempts + 1)
                        report.retrying += len(rows) - index - 1
                        break
                    continue
                self._sent(row.id)
                report.sent += 1
        return report

    def _release(self, row_ids: list[int], attempts: int) -> None:
        if not row_ids:
            return
        retry_at = self._clock.now() + backoff(attempts)
        with self._sessions() as session:
            for row in session.scalars(
                select(OutboundMessage).where(OutboundMessage.id.in_(row_ids))
            ):
                row.status = "queued"
                row.next_attempt_at = retry_at
            session.commit()

    def _sent(self, row_id: int) -> None:
        now = self._clock.now()
        with self._sessions() as session:
            row = session.get(OutboundMessage, row_id)
            if row is not None:
                row.status = "sent"
                row.sent_at = now
                row.attempts += 1
                row.last_error = ""
                session.commit()

    def _failed(self, row_id: int, error: SendError) -> None:
        now = self._clock.now()
        with self._sessions() as session:
            row = session.get(OutboundMessage, row_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = str(error)[:300]
            if error.permanent or row.attempts >= self._max_attempts:
                row.status = "failed"
            else:
                row.status = "queued"
                row.next_attempt_at = now + backoff(row.attempts)
            session.commit()
        log.warning(
            "email %s not sent (attempt %s): %s", row_id, row.attempts, redact_pii(str(error))
        )

    def next_due(self) -> datetime | None:
        """When the next queued row is due (to sleep until then)."""
        with self._sessions() as session:
            due: datetime | None = session.scalar(
                select(OutboundMessage.next_attempt_at)
                .where(
                    OutboundMessage.channel == "email",
                    OutboundMessage.status.in_(("queued", "sending")),
                )
                .order_by(OutboundMessage.next_attempt_at)
                .limit(1)
            )
            return due


class MaildirSender:
    """The demo's transport when no SMTP server is set: replies land in a Maildir folder.

    Args:
        path: The Maildir root; messages go to its ``Sent`` folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[SendFunction]:
        yield self.send

    async def send(self, message: EmailMessage) -> None:
        box = mailbox.Maildir(self.path, create=True)
        folder = box.get_folder("Sent") if "Sent" in box.list_folders() else box.add_folder("Sent")
        folder.add(message.as_bytes())
