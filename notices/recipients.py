"""Who hears about a notice: the affected customers, one deliverable address each.

One address per customer: a phone (SMS) when one is on file and not opted out,
else an email address not opted out; the consent ledger is read once for the
whole batch, and undeliverable contacts are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Account, ContactPoint, Customer, Notice, OutboundMessage
from accounts.services.consent import opted_out_addresses
from accounts.services.notices import account_is_affected
from notices.copy import notice_language


@dataclass(frozen=True, slots=True)
class Candidate:
    """An affected account's customer and their deliverable contacts, best first."""

    account_id: int
    customer_id: int
    language: str
    contacts: tuple[tuple[str, str], ...]  # (kind, value): phones first, primary first


def affected_candidates(*, session: Session, notice: Notice) -> list[Candidate]:
    """Open accounts in the notice's zones and street blocks, with their contacts.

    Plain column queries rather than ORM objects: a district-wide notice reads
    tens of thousands of rows and only needs a few columns of each.
    """
    if not notice.zones:
        return []
    in_area = (Account.zone.in_(list(notice.zones)), Account.status != "closed")
    accounts = session.execute(
        select(
            Account.id,
            Account.customer_id,
            Account.zone,
            Account.street_name,
            Account.street_number,
            Customer.language,
        )
        .join(Customer, Customer.id == Account.customer_id)
        .where(*in_area)
        .order_by(Account.id)
    ).all()
    contact_rows = session.execute(
        select(
            ContactPoint.customer_id,
            ContactPoint.kind,
            ContactPoint.value,
            ContactPoint.is_primary,
            ContactPoint.id,
        )
        .join(Account, Account.customer_id == ContactPoint.customer_id)
        .where(*in_area, ContactPoint.undeliverable.is_(False))
    ).all()
    by_customer: dict[int, dict[int, tuple[bool, bool, int, str, str]]] = {}
    for customer_id, kind, value, is_primary, point_id in contact_rows:
        by_customer.setdefault(customer_id, {})[point_id] = (
            kind != "phone",
            not is_primary,
            point_id,
            kind,
            value,
        )
    candidates: list[Candidate] = []
    for row in accounts:
        if not account_is_affected(notice, row):
            continue
        ranked = sorted(by_customer.get(row.customer_id, {}).values())
        candidates.append(
            Candidate(
                account_id=row.id,
                customer_id=row.customer_id,
                language=notice_language(row.language),
                contacts=tuple((kind, value) for *_, kind, value in ranked),
            )
        )
    return candidates


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address to notify, for one customer."""

    channel: str  # sms | email
    address: str
    language: str
    account_id: int | None


@dataclass
class Selection:
    """Recipients chosen and why others were left out."""

    recipients: list[Recipient] = field(default_factory=list)
    opted_out: int = 0
    no_contact: int = 0


def select_recipients(
    *, session: Session, candidates: Iterable[Candidate], extra: Iterable[Recipient] = ()
) -> Selection:
    """One address per customer: SMS when possible, else email; opted-out addresses never.

    Args:
        session: Database session (reads the consent ledger once).
        candidates: Affected accounts with their contacts (:func:`affected_candidates`).
        extra: Earlier recipients to include too (an update reaches everybody told
            before, even when the notice's area shrank).
    """
    blocked = {
        "sms": opted_out_addresses(session=session, channel="sms"),
        "email": opted_out_addresses(session=session, channel="email"),
    }
    selection = Selection()
    seen_customers: set[int] = set()
    seen_addresses: set[str] = set()
    for candidate in candidates:
        if candidate.customer_id in seen_customers:
            continue
        seen_customers.add(candidate.customer_id)
        chosen: Recipient | None = None
        any_blocked = False
        for kind, value in candidate.contacts:
            channel = "sms" if kind == "phone" else "email"
            if value in blocked[channel]:
                any_blocked = True
                continue
            chosen = Recipient(channel, value, candidate.language, candidate.account_id)
            break
        if chosen is None:
            if any_blocked:
                selection.opted_out += 1
            else:
                selection.no_contact += 1
            continue
        if chosen.address in seen_addresses:
            continue
        seen_addresses.add(chosen.address)
        selection.recipients.append(chosen)
    for recipient in extra:
        if recipient.address in seen_addresses:
            continue
        seen_addresses.add(recipient.address)
        if recipient.address in blocked[recipient.channel]:
            selection.opted_out += 1
            continue
        selection.recipients.append(recipient)
    return selection


def announced_before(*, session: Session, notice_id: int) -> bool:
    """Whether any message about the notice was ever queued."""
    statement = select(OutboundMessage.id).where(OutboundMessage.notice_id == notice_id).limit(1)
    return session.scalar(statement) is not None


def earlier_recipients(*, session: Session, notice_id: int) -> list[Recipient]:
    """Everybody a message about the notice actually went to, from the outbox."""
    rows = session.execute(
        select(OutboundMessage.channel, OutboundMessage.to_address, OutboundMessage.headers)
        .where(OutboundMessage.notice_id == notice_id, OutboundMessage.sent_at.is_not(None))
        .order_by(OutboundMessage.id)
    ).all()
    found: dict[str, Recipient] = {}
    for channel, address, headers in rows:
        meta = headers or {}
        account_id = meta.get("account_id")
        found.setdefault(
            address,
            Recipient(
                channel,
                address,
                notice_language(str(meta.get("language") or "en")),
                int(account_id) if isinstance(account_id, int) else None,
            ),
        )
    return list(found.values())
