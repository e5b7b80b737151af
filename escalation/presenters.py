"""What the CSR app and the JSON API show about a ticket: fields, transcript, account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accounts.models import Account, Bill, ContactLog, Payment, ServiceRequest, Ticket
from accounts.services.balance import BalanceSummary, balance_summary


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """The list fields of docs/contract/interfaces.md, plus a few more."""
    return {
        "id": ticket.id,
        "status": ticket.status,
        "level": ticket.level,
        "priority": ticket.priority,
        "intent": ticket.intent,
        "channel": ticket.channel,
        "account": ticket.account.number if ticket.account else None,
        "summary": ticket.summary,
        "due_at": ticket.due_at.isoformat(),
        "claimed_by": ticket.claimed_by.username if ticket.claimed_by else None,
        "reason": ticket.reason,
        "language": ticket.language,
        "verification_tier": ticket.verification_tier,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "disposition": ticket.disposition or None,
    }


def transcript_entries(*, session: Session, ticket: Ticket, limit: int = 500) -> list[ContactLog]:
    """The cross-channel transcript: the ticket's conversation and everything on the ticket."""
    conditions = [ContactLog.ticket_id == ticket.id]
    if ticket.conversation_id is not None:
        conditions.append(ContactLog.conversation_id == ticket.conversation_id)
    return list(
        session.scalars(
            select(ContactLog)
            .where(or_(*conditions))
            .order_by(ContactLog.at, ContactLog.id)
            .limit(limit)
        )
    )


def entry_json(entry: ContactLog) -> dict[str, Any]:
    """One transcript line."""
    return {
        "at": entry.at.isoformat(),
        "direction": entry.direction,
        "channel": entry.channel,
        "kind": entry.kind,
        "actor": entry.actor,
        "body": entry.body,
    }


@dataclass
class AccountView:
    """The account summary on a ticket page."""

    account: Account
    balance: BalanceSummary
    bills: list[Bill]
    payments: list[Payment]
    service_requests: list[ServiceRequest]
    contacts: list[ContactLog]

    def as_json(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "number": self.account.number,
            "name": self.account.customer.name,
            "service_address": self.account.service_address,
            "status": self.account.status,
            "balance": self.balance.as_json(),
            "bills": [
                {"due_date": b.due_date.isoformat(), "amount": str(b.amount)} for b in self.bills
            ],
            "payments": [
                {"posted_at": p.posted_at.isoformat(), "amount": str(p.amount), "method": p.method}
                for p in self.payments
            ],
            "service_requests": [
                {"reference": r.reference, "type": r.type, "status": r.status}
                for r in self.service_requests
            ],
        }


def account_view(*, session: Session, account: Account, today: date) -> AccountView:
    """Balance, recent bills and payments, open service requests and recent contacts."""
    bills = list(
        session.scalars(
            select(Bill)
            .where(Bill.account_id == account.id)
            .order_by(Bill.due_date.desc())
            .limit(4)
        )
    )
    payments = list(
        session.scalars(
            select(Payment)
            .where(Payment.account_id == account.id)
            .order_by(Payment.posted_at.desc())
            .limit(4)
        )
    )
    requests = list(
        session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.account_id == account.id, ServiceRequest.status != "closed")
            .order_by(ServiceRequest.created_at.desc())
            .limit(10)
        )
    )
    contacts = list(
        session.scalars(
            select(ContactLog)
            .where(ContactLog.account_id == account.id)
            .order_by(ContactLog.at.desc(), ContactLog.id.desc())
            .limit(10)
        )
    )
    return AccountView(
        account=account,
        balance=balance_summary(session=session, account=account, today=today),
        bills=bills,
        payments=payments,
        service_requests=requests,
        contacts=contacts,
    )


#: What a CSR reads for an intent code (the contract's intents, the routing extras and
#: the channels' own hand-off reasons); anything else is shown as its words.
INTENT_LABELS: dict[str, str] = {
    "human_agent": "Asked for a person",
    "callback": "Callback request",
    "callback_request": "Callback request",
    "check_balance": "Balance question",
    "make_payment": "Payment",
    "payment_arrangement": "Payment arrangement",
    "autopay": "AutoPay / paperless",
    "billing_dispute": "Billing dispute",
    "leak_adjustment": "Leak adjustment",
    "service_restoration": "Restoration (lock-off)",
    "outage": "Outage / no water",
    "report_emergency": "Emergency",
    "water_quality": "Water quality",
    "start_service": "Start service",
    "stop_service": "Stop service / final bill",
    "update_contact": "Update contact details",
    "rebate": "Rebates",
    "office_info": "Office info",
    "complaint": "Complaint",
    "out_of_scope": "Other / not understood",
}

CHANNEL_LABELS: dict[str, str] = {"sms": "Text (SMS)", "email": "Email", "voice": "Phone"}


def intent_label(intent: str) -> str:
    """``billing_dispute`` -> ``Billing dispute``."""
    return INTENT_LABELS.get(intent) or intent.replace("_", " ").capitalize()


def channel_label(channel: str) -> str:
    """``sms`` -> ``Text (SMS)``."""
    return CHANNEL_LABELS.get(channel, channel)


def local_day(value: date | datetime, tz: Any) -> str:
    """``Tue Dec 8, 2026``; a datetime is first put in the district timezone."""
    day = value.astimezone(tz).date() if isinstance(value, datetime) else value
    return f"{day:%a %b} {day.day}, {day.year}"


def local_time(value: datetime, tz: Any) -> str:
    """``Tue Nov 24, 10:05 AM`` in the district timezone."""
    local = value.astimezone(tz)
    hour = local.hour % 12 or 12
    return (
        f"{local:%a %b} {local.day}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    )
