"""The account store: customers, accounts, billing, service, conversations, tickets.

Amounts are ``Decimal`` (``Numeric(12, 2)``); datetimes are aware UTC; dates
(bill due dates) are district-local calendar dates.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.db import Base

Money = Numeric(12, 2)

# Value sets (kept as strings in the database so a district can read them).
ACCOUNT_STATUSES = ("active", "locked-off", "closed")
CSR_LEVELS = ("I", "II", "III", "Senior", "manager")
TICKET_STATUSES = ("new", "claimed", "waiting", "resolved", "closed")
CHANNELS = ("sms", "voice", "email", "web", "system")
NOTICE_KINDS = ("unplanned_outage", "planned_work", "boil_water")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime]

    accounts: Mapped[list[Account]] = relationship(back_populates="customer")
    contact_points: Mapped[list[ContactPoint]] = relationship(back_populates="customer")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    service_address: Mapped[str] = mapped_column(String(200))
    street_number: Mapped[int | None]
    street_name: Mapped[str] = mapped_column(String(120), index=True)
    city: Mapped[str] = mapped_column(String(80), default="")
    zip: Mapped[str] = mapped_column(String(10))
    zone: Mapped[str] = mapped_column(String(40), index=True)
    autopay: Mapped[bool] = mapped_column(Boolean, default=False)
    paperless: Mapped[bool] = mapped_column(Boolean, default=False)
    reconnection_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    opened_on: Mapped[date] = mapped_column(Date)
    locked_off_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="accounts")
    bills: Mapped[list[Bill]] = relationship(back_populates="account", order_by="Bill.due_date")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="account", order_by="Payment.posted_at"
    )

    @property
    def language(self) -> str:
        """The customer's preferred language."""
        return self.customer.language


class ContactPoint(Base):
    """A phone number (E.164) or email address (lower-case) of a customer."""

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("customer_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # phone | email
    value: Mapped[str] = mapped_column(String(254), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    undeliverable: Mapped[bool] = mapped_column(Boolean, default=False)
    undeliverable_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="contact_points")


class ConsentRecord(Base):
    """Current consent of one address on one channel: the ledger's summary row.

    Keyed by address, not customer: a stranger who texts STOP is honoured too.
    """

    __tablename__ = "consent_records"
    __table_args__ = (UniqueConstraint("address", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(8))  # sms | email | voice
    status: Mapped[str] = mapped_column(String(12))  # opted_in | opted_out
    changed_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(80))


class ConsentEvent(Base):
    """Every consent change, in order (the consent ledger)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(12))  # opted_in | opted_out
    at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text, default="")


class Bill(Base):
    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    usage_hcf: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    amount: Mapped[Decimal] = mapped_column(Money)
    issued_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)

    account: Mapped[Account] = relationship(back_populates="bills")


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(16))  # card | ach | autopay | cash | check
    posted_at: Mapped[datetime]
    confirmation: Mapped[str] = mapped_column(String(64), default="")
    source_channel: Mapped[str] = mapped_column(String(16), default="office")

    account: Mapped[Account] = relationship(back_populates="payments")


class Adjustment(Base):
    """A credit (negative) or charge (positive) outside the bill cycle."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(80), default="system")


class PaymentArrangement(Base):
    """An extension or installment plan (SB 998: no shutoff while it is kept)."""

    __tablename__ = "payment_arrangements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # extension | installment
    status: Mapped[str] = mapped_column(String(16), default="active")
    amount: Mapped[Decimal] = mapped_column(Money)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    source_channel: Mapped[str] = mapped_column(String(16))


class Notice(Base):
    """An unplanned outage, planned work window or water-quality notice."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="active")  # scheduled|active|closed
    title: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(200), default="")
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"street": "Oak Street", "from": 400, "to": 700}] ("from"/"to" may be null)
    streets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime]
    estimated_restoration_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str] = mapped_column(Text)
    safety: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ServiceRequest(Base):
    """A Utility Service Request (USR) for field or office work."""

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class Conversation(Base):
    """One conversation on one channel: an SMS thread, a call, an email thread."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_channel_external", "channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The conversation's name towards Rasa and the action server: unguessable and
    # unique across databases (Rasa's tracker store outlives a test database).
    key: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    channel: Mapped[str] = mapped_column(String(8))
    external_id: Mapped[str] = mapped_column(String(254))
    customer_address: Mapped[str] = mapped_column(String(254), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    verification_tier: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|handed_off|closed
    outcome: Mapped[str] = mapped_column(String(40), default="")
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    account: Mapped[Account | None] = relationship()


class ContactLog(Base):
    """Every contact: messages in and out, call events, emails, bot actions, payments.

    ``body`` is stored with card numbers redacted. ``external_id`` (a Twilio
    MessageSid, an email Message-ID) makes redelivered webhooks idempotent.
    """

    __tablename__ = "contact_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound | internal
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80), default="customer")
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str | None] = mapped_column(String(254), unique=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CsrUser(Base):
    __tablename__ = "csr_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(10))  # I | II | III | Senior | manager
    password_hash: Mapped[str] = mapped_column(String(255))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Ticket(Base):
    """An escalation: work the bot hands to a CSR of at least ``level``."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_queue", "status", "level", "priority", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="new")
    level: Mapped[str] = mapped_column(String(10))
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 0 emergency .. 3 low
    intent: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    verification_tier: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(5), default="en")
    summary: Mapped[str] = mapped_column(Text)
    customer_address: Mapped[str] = mapped_column(String(254), default="")
    callback_number: Mapped[str] = mapped_column(String(20), default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("csr_users.id"))
    claimed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    disposition: Mapped[str] = mapped_column(String(40), default="")
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    account: Mapped[Account | None] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    claimed_by: Mapped[CsrUser | None] = relationship()


class OutboundMessage(Base):
    """The outbox: every SMS, email or call the product sends, and its fate."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email | voice
    purpose: Mapped[str] = mapped_column(String(16), default="reply")  # reply|notice|page|otp
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    from_address: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))


class VerificationAttempt(Base):
    """One try at a tier-1 knowledge factor (rate-limited per account and address)."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    address: Mapped[str] = mapped_column(String(254), default="", index=True)
    factor: Mapped[str] = mapped_column(String(10))  # zip | last4 | otp
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]


class MailboxLease(Base):
    """Who may read a mailbox now: one inbox worker per mailbox."""

    __tablename__ = "mailbox_leases"

    mailbox: Mapped[str] = mapped_column(String(254), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]


class ProcessedEmail(Base):
    """An email the inbox has finished with (Message-ID idempotency)."""

    __tablename__ = "processed_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    mailbox: Mapped[str] = mapped_column(String(254))
    outcome: Mapped[str] = mapped_column(String(20))  # answered | escalated | ignored
    processed_at: Mapped[datetime]
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))


class OnCallShift(Base):
    """Who is on call when (emergency paging)."""

    __tablename__ = "oncall_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10))  # primary | backup
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class Page(Base):
    """One page of on-call staff for an emergency ticket."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    status: Mapped[str] = mapped_column(String(12), default="sent")  # sent|acked|expired
    sent_at: Mapped[datetime]
    acked_at: Mapped[datetime | None]


# "The next ticket" walks this partial index in queue order instead of sorting every
# unclaimed ticket (claim_next's SELECT ... ORDER BY priority, due_at, id LIMIT 1).
NEW_TICKETS_IN_QUEUE_ORDER = Index(
    "ix_tickets_new_queue_order",
    Ticket.priority,
    Ticket.due_at,
    Ticket.id,
    postgresql_where=Ticket.status == "new",
    sqlite_where=Ticket.status == "new",
)


class LoginAttempt(Base):
    """One CSR login try, kept for rate limiting (shared by every gateway worker)."""

    __tablename__ = "csr_login_attempts"
    __table_args__ = (
        Index("ix_csr_login_attempts_username_at", "username", "at"),
        Index("ix_csr_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    # The client's IP address, not a customer's: CSR logins only.
    address: Mapped[str] = mapped_column(String(64), default="")
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]


#: Every table of the account store (for Alembic and the tests).
metadata = Base.metadata
