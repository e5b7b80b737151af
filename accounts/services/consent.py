"""The one consent ledger for every channel (TCPA/CTIA opt-outs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import ConsentEvent, ConsentRecord


def _record(session: Session, address: str, channel: str) -> ConsentRecord | None:
    statement = select(ConsentRecord).where(
        ConsentRecord.address == address, ConsentRecord.channel == channel
    )
    return session.scalars(statement).first()


def is_opted_out(*, session: Session, address: str, channel: str = "sms") -> bool:
    """True when the address has opted out of the channel."""
    record = _record(session, address, channel)
    return record is not None and record.status == "opted_out"


def opted_out_addresses(*, session: Session, channel: str = "sms") -> set[str]:
    """Every opted-out address of a channel (for bulk notices)."""
    statement = select(ConsentRecord.address).where(
        ConsentRecord.channel == channel, ConsentRecord.status == "opted_out"
    )
    return set(session.scalars(statement))


def set_consent(
    *,
    session: Session,
    address: str,
    channel: str,
    status: str,
    now: datetime,
    via: str,
    text: str = "",
) -> bool:
    """Record an opt-in or opt-out; returns True when the state changed."""
    if status not in ("opted_in", "opted_out"):
        raise ValueError(f"unknown consent status {status!r}")
    session.add(
        ConsentEvent(address=address, channel=channel, action=status, at=now, via=via, text=text)
    )
    record = _record(session, address, channel)
    changed = record is None or record.status != status
    if record is None:
        session.add(
            ConsentRecord(address=address, channel=channel, status=status, changed_at=now, via=via)
        )
    elif changed:
        record.status, record.changed_at, record.via = status, now, via
    session.flush()
    return changed


def record_opt_out(*, session: Session, address: str, channel: str, now: datetime, via: str,
                   text: str = "") -> bool:
    """Stop all outbound messages of ``channel`` to ``address``."""
    return set_consent(session=session, address=address, channel=channel, status="opted_out",
                       now=now, via=via, text=text)


def record_opt_in(*, session: Session, address: str, channel: str, now: datetime, via: str,
                  text: str = "") -> bool:
    """Resume messages of ``channel`` to ``address``."""
    return set_consent(session=session, address=address, channel=channel, status="opted_in",
                       now=now, via=via, text=text)
