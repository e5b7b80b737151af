"""Helpers for the paging tests: the recording Twilio API (messages and calls) and fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_sessionmaker
from accounts.models import ContactLog, Ticket
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_accounts_by_phone
from accounts.services.service_requests import create_service_request
from accounts.services.tickets import open_ticket
from accounts.settings import Settings
from channels.outbound_sms import RetryPolicy, SendPacer, SmsSender
from channels.page_calls import ACK_PATH
from channels.twilio_rest import make_twilio_client
from escalation.oncall import PagingPolicy
from escalation.page_transport import TwilioPageTransport
from escalation.paging import page_for_emergency
from gateway.app import create_app
from gateway.services import Services, build_services
from tests.utils.live_server import serve
from tests.utils.twilio_server import RecordedRequest, TwilioRecorder, twilio_api
from tests.utils.twilio_signing import TwilioWebhookClient

SID = "AC" + "b" * 32
TOKEN = "paging-rest-token"
PUBLIC_BASE = "https://water.example.org"
SAM = "+15305550150"
LEE = "+15305550151"
DANA = "+15305550101"


@contextmanager
def twilio_api_with_calls(
    account_sid: str = SID, auth_token: str = TOKEN
) -> Iterator[TwilioRecorder]:
    """The recording Twilio API (it answers ``Calls.json`` too) with the paging account."""
    with twilio_api(account_sid, auth_token) as recorder:
        yield recorder


def rest_settings(settings: Settings, recorder: TwilioRecorder) -> Settings:
    """Settings whose twilio client talks to ``recorder``."""
    return settings.model_copy(
        update={
            "public_base_url": PUBLIC_BASE,
            "twilio": settings.twilio.model_copy(
                update={
                    "account_sid": recorder.account_sid,
                    "auth_token": SecretStr(recorder.auth_token),
                    "api_base": recorder.url,
                    "messaging_service_sid": "",
                    "from_number": "+15305550100",
                }
            ),
        }
    )


def real_transport(settings: Settings, clock: FixedClock) -> TwilioPageTransport:
    """Pages through the channels' SMS sender and the real twilio client."""
    client = make_twilio_client(settings)
    assert client is not None
    sender = SmsSender(
        client=client,
        settings=settings,
        clock=clock,
        pacer=SendPacer(1000.0, sleep=lambda _: None),
        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        sleep=lambda _: None,
    )
    return TwilioPageTransport(
        sms_sender=sender,
        client=client,
        settings=settings,
        clock=clock,
        ack_path=ACK_PATH,
        district_name="Valley Springs Water District",
        console=lambda _: None,
    )


def emergency_ticket(
    session: Session,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    caller: str = DANA,
    address: str = "450 Oak Street",
    description: str = "Water is gushing out of the street in front of my house",
) -> Ticket:
    """An emergency reported by text: a conversation, a service request and the ticket."""
    conversation, _ = get_or_open_conversation(
        session=session,
        channel="sms",
        external_id=caller,
        now=now,
        timeout=timedelta(minutes=30),
        customer_address=caller,
        language="en",
    )
    accounts = find_accounts_by_phone(session=session, phone=caller)
    account = accounts[0] if accounts else None
    create_service_request(
        session=session,
        type="main_break",
        description=description,
        source_channel="sms",
        now=now,
        priority="emergency",
        account=account,
        address=address,
        conversation=conversation,
    )
    ticket = open_ticket(
        session=session,
        calendar=calendar,
        intent="report_emergency",
        channel="sms",
        summary=f"Main break reported at {address}",
        now=now,
        conversation=conversation,
        account=account,
        reason="main_break",
        callback_number=caller,
    )
    session.flush()
    return ticket


def at_local(calendar: BusinessCalendar, *args: int) -> datetime:
    """A district wall-clock instant as aware UTC."""
    return datetime(*args, tzinfo=calendar.tz).astimezone(UTC)


POLICY = PagingPolicy(ack_minutes=5, primary_pages=2, backup_pages=2)


@contextmanager
def paged_over_http(
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> Iterator[tuple[Services, TwilioWebhookClient, int]]:
    """A live gateway and an emergency ticket whose on-call page has just gone out."""
    test_settings = rest_settings(settings, api)
    services = build_services(
        test_settings, engine=engine, clock=clock, http=httpx.AsyncClient(timeout=5)
    )
    with serve(create_app(services)) as server:
        webhook = TwilioWebhookClient(
            server.url, PUBLIC_BASE, test_settings.twilio.auth_token.get_secret_value()
        )
        with make_sessionmaker(engine)() as session:
            ticket = emergency_ticket(session, calendar, clock.now())
            page_for_emergency(
                session=session,
                ticket=ticket,
                now=clock.now(),
                transport=services.pager.transport,
                policy=POLICY,
            )
            session.commit()
            ticket_id = ticket.id
        yield services, webhook, ticket_id


def sms_to(api: TwilioRecorder, phone: str) -> list[RecordedRequest]:
    return [r for r in api.message_requests() if r.field("To") == phone]


def calls_to(api: TwilioRecorder, phone: str) -> list[RecordedRequest]:
    return [r for r in api.requests if r.path.endswith("/Calls.json") and r.field("To") == phone]


def log_kinds(session: Session, ticket: Ticket) -> list[str]:
    entries = session.scalars(
        select(ContactLog).where(ContactLog.ticket_id == ticket.id).order_by(ContactLog.id)
    )
    return [entry.kind for entry in entries]
