"""Send the notice messages that are due, and log each one that went.

**A notice is written to the recipient's contact log when it is actually
sent**, not when it is queued: a message cancelled by a later update or blocked
by a later STOP was never a contact. The entry carries the account, the notice
id and the outbox row id. Run by ``assistant oncall watch`` and ``assistant
notice dispatch``; the senders are handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import as_utc
from accounts.email_message import ReplyDraft, SendError, render_email
from accounts.models import Account, OutboundMessage
from accounts.redact import mask_address
from accounts.services.consent import is_opted_out
from accounts.services.contacts import record_contact

EMAIL_RETRY_DELAYS = (60, 300, 900, 3600)


class SmsDelivery(Protocol):
    """Sends a queued SMS outbox row (the gateway's outbound SMS sender)."""

    def deliver(self, *, session: Session, row: OutboundMessage) -> None:
        """Send ``row`` (consent checked, paced, retried) and record the outcome on it."""
        ...


class EmailTransport(Protocol):
    """An async email sender (the gateway's: SMTP, or the demo Maildir's ``Sent`` folder)."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver a rendered message; raise ``SendError`` when it did not go."""
        ...


@dataclass
class DispatchReport:
    """What one :func:`dispatch_due` pass did."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retrying: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


async def _deliver_email(
    email: EmailTransport, row: OutboundMessage, now: datetime, report: DispatchReport
) -> None:
    draft = ReplyDraft(
        to_address=row.to_address,
        from_address=row.from_address,
        subject=row.subject,
        body_text=row.body,
        # RFC 3834: a notification, not a reply; out-of-office robots stay quiet.
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    row.attempts += 1
    try:
        await email.send(render_email(draft))
    except SendError as exc:
        row.last_error = str(exc)[:300]
        if exc.permanent or row.attempts > len(EMAIL_RETRY_DELAYS):
            row.status = "failed"
        else:
            row.next_attempt_at = now + timedelta(seconds=EMAIL_RETRY_DELAYS[row.attempts - 1])
            report.retrying += 1
        return
    row.status, row.sent_at = "sent", now


async def dispatch_due(
    *,
    session: Session,
    now: datetime,
    sms: SmsDelivery,
    email: EmailTransport | None,
    limit: int = 200,
) -> DispatchReport:
    """Send queued notice messages that are due; log each one sent on the contact log.

    Args:
        session: Database session; committed after each message so a crash
            never re-sends what went out.
        now: The current instant.
        sms: The outbound SMS sender (``SmsSender``; its console transport in the demo).
        email: The email sender, or ``None`` to leave email rows queued.
        limit: Most messages this pass.
    """
    report = DispatchReport()
    channels = ["sms"] + (["email"] if email is not None else [])
    due = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.purpose == "notice",
            OutboundMessage.status == "queued",
            OutboundMessage.sent_at.is_(None),
            OutboundMessage.channel.in_(channels),
            OutboundMessage.next_attempt_at <= now,
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    ).all()
    for row in due:
        if row.not_before is not None and as_utc(row.not_before) > now:
            continue
        if row.channel == "sms":
            # The sender checks the consent ledger, paces, retries and records
            # Twilio's answer on our already-queued row.
            sms.deliver(session=session, row=row)
        elif email is not None:
            if is_opted_out(session=session, address=row.to_address, channel="email"):
                row.status, row.last_error = "blocked", "recipient opted out"
            else:
                await _deliver_email(email, row, now, report)
        report.by_status[row.status] = report.by_status.get(row.status, 0) + 1
        if row.status in ("sent", "queued", "accepted", "console") and row.sent_at is not None:
            report.sent += 1
            _log_sent(session, row, now)
        elif row.status == "blocked":
            report.blocked += 1
        elif row.status == "failed":
            report.failed += 1
        session.commit()
    return report


def _log_sent(session: Session, row: OutboundMessage, now: datetime) -> None:
    meta = row.headers or {}
    account_id = meta.get("account_id")
    account = session.get(Account, account_id) if isinstance(account_id, int) else None
    record_contact(
        session=session,
        channel=row.channel,
        direction="outbound",
        kind="notice",
        body=row.body if row.channel == "sms" else f"{row.subject}\n\n{row.body}",
        at=now,
        account=account,
        actor="system",
        meta={
            "notice_id": row.notice_id,
            "outbound_id": row.id,
            "event": meta.get("event"),
            "to": mask_address(row.to_address),
        },
    )
