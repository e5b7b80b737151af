"""The gateway's internal API for the Rasa action server (``/internal/...``).

The actions stay thin: every fact and every business rule is here, on top of
``accounts.services``. Callers authenticate with the shared secret in the
``X-Internal-Token`` header (INTERNAL_API_TOKEN). Conversations are addressed
by their unguessable ``key``, which is also Rasa's sender id.

Tier-1 routes (balance, payment link, arrangements, restoration) answer 403
until the conversation is verified (shared/design.md, "Identity tiers").
"""

from __future__ import annotations

import hmac
import logging
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.deps import CalendarDep, ClockDep, DistrictDep, SettingsDep
from accounts.district import District
from accounts.models import Account, Conversation, Notice, ServiceRequest
from accounts.services import arrangements, identity
from accounts.services.balance import BalanceSummary, balance_summary
from accounts.services.contacts import record_contact
from accounts.services.notices import normalize_street, notices_for_account, notices_for_street
from accounts.services.service_requests import create_service_request
from accounts.services.tickets import open_ticket, open_ticket_of
from gateway.services import ServicesDep

log = logging.getLogger(__name__)



def require_internal_token(
    settings: SettingsDep,
    token: Annotated[str | None, Header(alias="X-Internal-Token")] = None,
) -> None:
    """401 unless the request carries the shared secret."""
    expected = settings.internal_api_token.get_secret_value().encode()
    if not token or not expected or not hmac.compare_digest(token.encode(), expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid internal token")


router = APIRouter(
    prefix="/internal", tags=["internal"], dependencies=[Depends(require_internal_token)]
)


# -- helpers -----------------------------------------------------------------------


def _conversation(session: Session, key: str) -> Conversation:
    conversation = session.scalars(select(Conversation).where(Conversation.key == key)).first()
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown conversation")
    return conversation


def _verified_account(session: Session, conversation: Conversation) -> Account:
    """The conversation's account, when it reached tier 1; else 403."""
    if conversation.verification_tier < 1 or conversation.account_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "verification required")
    account = session.get(Account, conversation.account_id)
    if account is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "verification required")
    return account


def _verified(session: Session, key: str) -> tuple[Conversation, Account]:
    """The conversation and its account, for tier-1 endpoints (404 / 403 otherwise)."""
    conversation = _conversation(session, key)
    return conversation, _verified_account(session, conversation)


def _local(value: datetime | None, district: District) -> str | None:
    return value.astimezone(district.tz).isoformat() if value else None


def _today(now: datetime, district: District) -> date:
    return now.astimezone(district.tz).date()


def _log_action(
    session: Session, conversation: Conversation, body: str, now: datetime, **meta: Any
) -> None:
    record_contact(
        session=session, channel=conversation.channel, direction="internal", kind="bot_action",
        body=body, at=now, conversation=conversation, actor="bot", meta=meta,
    )


# -- conversation and identity ---------------------------------------------------------


@router.get("/conversations/{key}")
def get_conversation(key: str, session: SessionDep) -> dict[str, Any]:
    """Channel, language, status, tier and whether the sender matches an account."""
    conversation = _conversation(session, key)
    candidates = identity.caller_accounts(session=session, conversation=conversation)
    return {
        "key": conversation.key,
        "channel": conversation.channel,
        "language": conversation.language,
        "status": conversation.status,
        "verification_tier": conversation.verification_tier,
        "caller_matched": bool(candidates),
        "candidate_accounts": len(candidates),
    }


class VerifyIn(BaseModel):
    """One answer: a factor (matched sender) or account number + ZIP."""

    factor: Annotated[str | None, Field(max_length=20)] = None
    account_number: Annotated[str | None, Field(max_length=20)] = None
    zip: Annotated[str | None, Field(max_length=10)] = None


@router.post("/conversations/{key}/verify")
def verify(key: str, body: VerifyIn, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    """Check the answer; on success the conversation reaches tier 1 and joins the account."""
    conversation = _conversation(session, key)
    now = clock.now()
    if conversation.verification_tier >= 1:
        result = identity.IdentityResult(True, conversation.verification_tier, 0, False)
    elif body.factor:
        try:
            result = identity.verify_caller(
                session=session, conversation=conversation, answer=body.factor, now=now
            )
        except LookupError as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "the sender matches no account: send account_number and zip",
            ) from exc
    elif body.account_number and body.zip:
        result = identity.verify_account_and_zip(
            session=session, conversation=conversation, account_number=body.account_number,
            zip_code=body.zip, now=now,
        )
    else:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "send factor, or account_number and zip"
        )
    _log_action(
        session, conversation,
        "Identity verified (tier 1)" if result.verified else "Verification answer did not match",
        now, verified=result.verified, locked=result.locked,
    )
    session.commit()
    return {
        "verified": result.verified,
        "tier": result.tier,
        "attempts_left": result.attempts_left,
        "locked": result.locked,
    }


# -- billing (tier 1) ----------------------------------------------------------------------


def _summary(
    session: Session, account: Account, now: datetime, district: District
) -> BalanceSummary:
    return balance_summary(session=session, account=account, today=_today(now, district))


@router.get("/conversations/{key}/balance")
def get_balance(
    key: str, session: SessionDep, clock: ClockDep, district: DistrictDep
) -> dict[str, Any]:
    """Amount due, due date, past due, last payment, AutoPay, paperless, lock-off."""
    _, account = _verified(session, key)
    data = _summary(session, account, clock.now(), district).as_json()
    data.pop("account_number", None)  # the bot never needs to say it
    data["paperless"] = account.paperless
    return data


@router.post("/conversations/{key}/payment-link")
def payment_link(
    key: str, session: SessionDep, clock: ClockDep, district: DistrictDep
) -> dict[str, Any]:
    """The payment portal link with the account filled in, and the amount due."""
    conversation, account = _verified(session, key)
    now = clock.now()
    summary = _summary(session, account, now, district)
    _log_action(session, conversation, "Payment link sent", now, amount=str(summary.amount_due))
    session.commit()
    return {
        "url": district.payments.portal_link(account.number),
        "amount": str(summary.amount_due),
    }


def _offer(
    session: Session, account: Account, now: datetime, district: District
) -> arrangements.ArrangementOffer:
    return arrangements.arrangement_offer(
        session=session, account=account, balance=_summary(session, account, now, district),
        policy=district.arrangements, today=_today(now, district),
    )


@router.get("/conversations/{key}/arrangements")
def get_arrangements(
    key: str, session: SessionDep, clock: ClockDep, district: DistrictDep
) -> dict[str, Any]:
    """Options within the district's policy; ``eligible`` false when none applies."""
    _, account = _verified(session, key)
    data = _offer(session, account, clock.now(), district).as_json()
    data["policy_text"] = district.arrangements.policy_text.model_dump()
    return data


class ArrangementIn(BaseModel):
    """The option the customer chose."""

    option_id: Annotated[str, Field(min_length=1, max_length=40)]


@router.post("/conversations/{key}/arrangements", status_code=status.HTTP_201_CREATED)
def post_arrangement(
    key: str, body: ArrangementIn, session: SessionDep, clock: ClockDep, district: DistrictDep
) -> dict[str, Any]:
    """Record the chosen arrangement on the account (409 if not offered)."""
    conversation, account = _verified(session, key)
    now = clock.now()
    offer = _offer(session, account, now, district)
    try:
        row, option = arrangements.record_arrangement(
            session=session, account=account, offer=offer, option_id=body.option_id, now=now,
            source_channel=conversation.channel,
        )
    except arrangements.OptionNotOffered as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "option not offered") from exc
    _log_action(session, conversation, f"Payment arrangement {row.id} recorded: {body.option_id}",
                now, arrangement_id=row.id)
    session.commit()
    return {**{k: v for k, v in option.items() if k != "keywords"}, "id": row.id}


def _open_restoration(session: Session, account: Account) -> ServiceRequest | None:
    return session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.account_id == account.id,
            ServiceRequest.type == "restoration",
            ServiceRequest.status == "open",
        )
    ).first()


@router.get("/conversations/{key}/restoration")
def get_restoration(
    key: str, session: SessionDep, clock: ClockDep, district: DistrictDep
) -> dict[str, Any]:
    """Lock-off status, what restoring costs, and any restoration request in progress."""
    _, account = _verified(session, key)
    summary = _summary(session, account, clock.now(), district)
    open_request = _open_restoration(session, account)
    return {
        "status": summary.status,
        "locked_off": summary.locked_off,
        "balance_due": str(summary.amount_due),
        "reconnection_fee": str(summary.reconnection_fee),
        "amount_to_restore": str(summary.amount_to_restore),
        "open_request": open_request.reference if open_request else None,
        "payment_url": district.payments.portal_link(account.number),
    }


@router.post("/conversations/{key}/restoration", status_code=status.HTTP_201_CREATED)
def post_restoration(
    key: str, session: SessionDep, clock: ClockDep, district: DistrictDep
) -> dict[str, Any]:
    """A restoration request once nothing is owed (409 while locked-off money is due)."""
    conversation, account = _verified(session, key)
    now = clock.now()
    summary = _summary(session, account, now, district)
    if not summary.locked_off:
        raise HTTPException(status.HTTP_409_CONFLICT, "service is not locked off")
    if summary.amount_to_restore > 0:
        raise HTTPException(status.HTTP_409_CONFLICT, "amount to restore is still due")
    existing = _open_restoration(session, account)
    request = existing or create_service_request(
        session=session, type="restoration", priority="high", account=account,
        conversation=conversation, source_channel=conversation.channel, now=now,
        description="Restore service: the past-due balance and reconnection fee are paid.",
    )
    _log_action(session, conversation, f"Restoration request {request.reference}", now)
    session.commit()
    return {"reference": request.reference, "status": request.status}


# -- service (tier 0) ------------------------------------------------------------------------


def _account_at(session: Session, text: str) -> Account | None:
    """The account whose service address is the typed address (number + street)."""
    words = text.strip().split(maxsplit=1)
    if len(words) < 2 or not words[0].isdigit():
        return None
    street = normalize_street(words[1])
    for account in session.scalars(
        select(Account).where(Account.street_number == int(words[0]))
    ):
        if normalize_street(account.street_name) == street:
            return account
    return None


def _notice_json(notice: Notice, district: District) -> dict[str, Any]:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "status": notice.status,
        "title": notice.title,
        "text_en": notice.text_en,
        "text_es": notice.text_es,
        "safety": notice.safety,
        "starts_at_local": _local(notice.starts_at, district),
        "estimated_restoration_local": _local(notice.estimated_restoration_at, district),
    }


@router.get("/conversations/{key}/notices")
def get_notices(
    key: str,
    session: SessionDep,
    clock: ClockDep,
    district: DistrictDep,
    address: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Outages, planned work and water-quality notices for ``address``.

    Without ``address`` the verified account's service address is used. A typed
    address that is a known service address also gets its zone's notices.
    """
    conversation = _conversation(session, key)
    now = clock.now()
    if address:
        account = _account_at(session, address)
        notices = (
            notices_for_account(session=session, account=account, now=now)
            if account
            else notices_for_street(session=session, text=address, now=now)
        )
    else:
        account = _verified_account(session, conversation)
        notices = notices_for_account(session=session, account=account, now=now)
    return {"notices": [_notice_json(notice, district) for notice in notices]}


class ServiceRequestIn(BaseModel):
    """A report or request the bot collected."""

    type: Literal["no_water", "low_pressure", "water_quality", "start_service", "stop_service"]
    intent: Annotated[str, Field(max_length=40)]
    description: Annotated[str, Field(max_length=2000)]
    address: Annotated[str | None, Field(max_length=200)] = None
    details: dict[str, Any] = Field(default_factory=dict)
    ticket: bool = False


_PRIORITY_BY_TYPE = {"no_water": "high", "water_quality": "high"}


@router.post("/conversations/{key}/service-requests", status_code=status.HTTP_201_CREATED)
def post_service_request(
    key: str, body: ServiceRequestIn, session: SessionDep, clock: ClockDep,
    calendar: CalendarDep,
) -> dict[str, Any]:
    """Create a service request, and a ticket (without handing off) when asked."""
    conversation = _conversation(session, key)
    account = (
        _verified_account(session, conversation)
        if body.type == "stop_service"
        else (session.get(Account, conversation.account_id) if conversation.account_id else None)
    )
    now = clock.now()
    request = create_service_request(
        session=session, type=body.type, description=body.description,
        source_channel=conversation.channel, now=now,
        priority=_PRIORITY_BY_TYPE.get(body.type, "normal"), account=account,
        address=body.address or "", conversation=conversation, details=body.details,
    )
    ticket_id = None
    if body.ticket:
        ticket = open_ticket(
            session=session, calendar=calendar, intent=body.intent, channel=conversation.channel,
            summary=f"{request.reference}: {body.description}", now=now,
            conversation=conversation, account=account, reason=f"service request {body.type}",
            hand_off=False,
        )
        ticket_id = ticket.id
    _log_action(session, conversation, f"Service request {request.reference} ({body.type})", now,
                reference=request.reference)
    session.commit()
    return {"reference": request.reference, "ticket_id": ticket_id}


class EmergencyIn(BaseModel):
    """An emergency report: where and what."""

    address: Annotated[str | None, Field(max_length=200)] = None
    description: Annotated[str, Field(max_length=2000)]


@router.post("/conversations/{key}/emergency", status_code=status.HTTP_201_CREATED)
def post_emergency(
    key: str, body: EmergencyIn, session: SessionDep, clock: ClockDep, calendar: CalendarDep,
    services: ServicesDep,
) -> dict[str, Any]:
    """Urgent service request, emergency ticket (top of the queue) and on-call page."""
    conversation = _conversation(session, key)
    now = clock.now()
    account = session.get(Account, conversation.account_id) if conversation.account_id else None
    request = create_service_request(
        session=session, type="emergency", priority="emergency", description=body.description,
        source_channel=conversation.channel, now=now, account=account,
        address=body.address or "", conversation=conversation,
    )
    ticket = open_ticket(
        session=session, calendar=calendar, intent="report_emergency",
        channel=conversation.channel, now=now, conversation=conversation, account=account,
        summary=f"EMERGENCY {request.reference} at {body.address or 'address not given'}: "
        f"{body.description}",
        reason="emergency reported", customer_text=body.description,
        callback_number=conversation.customer_address if conversation.channel != "email" else "",
        hand_off=False,
    )
    session.commit()
    paged = False
    try:
        pages = services.pager.page(
            session=session, ticket=ticket, now=now,
            address=body.address or "", caller=conversation.customer_address,
            description=body.description,
        )
        paged = bool(pages)
        session.commit()
    except Exception:
        # The request and the ticket are stored; the ticket waits at the top of
        # the queue and the paging worker retries. The customer still hears that
        # the report is in.
        session.rollback()
        log.exception("paging failed for ticket %s", ticket.id)
    return {"reference": request.reference, "ticket_id": ticket.id, "paged": paged}


# -- hand-off --------------------------------------------------------------------------------


class HandoffIn(BaseModel):
    """Why the bot hands the conversation to a person."""

    intent: Annotated[str, Field(max_length=40)]
    reason: Annotated[str, Field(max_length=200)]
    summary: Annotated[str, Field(max_length=4000)]
    language: Literal["en", "es"] | None = None


@router.post("/conversations/{key}/handoff", status_code=status.HTTP_201_CREATED)
def post_handoff(
    key: str, body: HandoffIn, session: SessionDep, clock: ClockDep, calendar: CalendarDep,
    district: DistrictDep,
) -> dict[str, Any]:
    """Open a ticket and mark the conversation handed off (the gateway stops forwarding).

    A conversation that already has an open ticket gets that ticket back.
    """
    conversation = _conversation(session, key)
    now = clock.now()
    if body.language:
        conversation.language = body.language
    ticket = open_ticket_of(
        session=session, conversation_id=conversation.id, exclude_intent="report_emergency"
    )
    if ticket is None:
        ticket = open_ticket(
            session=session, calendar=calendar, intent=body.intent, channel=conversation.channel,
            summary=body.summary, now=now, conversation=conversation, reason=body.reason,
            customer_text=body.summary,
            callback_number=conversation.customer_address if conversation.channel != "email"
            else "",
        )
    else:
        conversation.status = "handed_off"
    session.commit()
    office_open = calendar.is_open(now)
    return {
        "ticket_id": ticket.id,
        "level": ticket.level,
        "priority": ticket.priority,
        "due_at": ticket.due_at.isoformat(),
        "due_at_local": _local(ticket.due_at, district),
        "office_open": office_open,
        "live_transfer": office_open and conversation.channel == "voice",
    }


# -- district facts ----------------------------------------------------------------------------


@router.get("/district")
def get_district(district: DistrictDep, calendar: CalendarDep, clock: ClockDep) -> dict[str, Any]:
    """The district facts the bot tells customers (from the district file)."""
    now = clock.now()
    today = _today(now, district)
    upcoming: list[dict[str, Any]] = []
    for year in (today.year, today.year + 1):
        english = calendar.holidays(year, "en")
        spanish = calendar.holidays(year, "es")
        upcoming += [
            {"date": day.isoformat(), "name": {"en": english[day], "es": spanish[day]}}
            for day in sorted(english)
            if today <= day <= today + timedelta(days=45)
        ]
    return {
        "name": district.name,
        "phone": district.contact.phone,
        "phone_display": district.contact.phone_display,
        "email": district.contact.email,
        "website": district.contact.website,
        "office_address": district.office_address.one_line(),
        "hours_text": {"en": calendar.describe_office_hours("en"),
                       "es": calendar.describe_office_hours("es")},
        "open_now": calendar.is_open(now),
        "upcoming_holidays": upcoming,
        "directions": district.office_directions.model_dump(),
        "pay_by_phone": district.payments.pay_by_phone.number_display,
        "payment_methods": [
            {"key": m.key, "name": m.name.model_dump(), "description": m.description.model_dump()}
            for m in district.payments.methods
        ],
        "rebates": [
            {"key": r.key, "name": r.name.model_dump(), "description": r.description.model_dump(),
             "amount": str(r.amount)}
            for r in district.rebates
        ],
        "arrangement_policy": district.arrangements.policy_text.model_dump(),
        "reconnection_fee": str(district.reconnection.fee),
        "emergency_instructions": district.after_hours_emergency.instructions.model_dump(),
    }

