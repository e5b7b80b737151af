"""Fixtures for the CSR queue: the live gateway with a recording Twilio API, tickets, clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_sessionmaker
from accounts.models import Account, CsrUser, Ticket
from accounts.services.contacts import record_contact
from accounts.services.conversations import get_or_open_conversation
from accounts.services.tickets import open_ticket
from channels.outbound_sms import SendPacer, SmsSender
from channels.twilio_rest import make_twilio_client
from gateway.services import Services, build_services
from tests.escalation.paging_support import twilio_api_with_calls
from tests.utils.live_server import LiveServer
from tests.utils.twilio_server import TwilioRecorder, twilio_api

PASSWORD = "district-demo"
DANA = "+15305550101"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@dataclass
class CsrApp:
    """The live gateway serving this test's database, with helpers."""

    server: LiveServer
    services: Services
    sessions: sessionmaker[Session]
    clock: FixedClock
    calendar: BusinessCalendar
    twilio: TwilioRecorder
    clients: list[httpx.Client] = field(default_factory=list)

    def close(self) -> None:
        for client in self.clients:
            client.close()

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, username: str | None = None) -> httpx.Client:
        """An API client, with a bearer token for ``username`` when given."""
        client = httpx.Client(base_url=self.url, timeout=15)
        self.clients.append(client)
        if username:
            response = client.post(
                "/api/auth/token", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            client.headers["Authorization"] = f"Bearer {response.json()['token']}"
        return client

    def browser(self, username: str | None = None) -> httpx.Client:
        """A cookie-keeping client, logged in through the login form when given a user."""
        client = httpx.Client(base_url=self.url, timeout=15, follow_redirects=False)
        self.clients.append(client)
        if username:
            page = client.get("/csr/login")
            response = client.post(
                "/csr/login",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrf_token": csrf_of(page.text),
                },
            )
            assert response.status_code == 303, response.text
        return client

    def form_token(self, client: httpx.Client, path: str = "/csr/") -> str:
        """The CSRF token from a page the logged-in client sees."""
        page = client.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    def ticket(self, ticket_id: int) -> Ticket:
        with self.sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            session.expunge(ticket)
            return ticket

    def user(self, username: str) -> CsrUser:
        with self.sessions() as session:
            user = session.scalar(select(CsrUser).where(CsrUser.username == username))
            assert user is not None
            session.expunge(user)
            return user


def new_ticket(
    session: Session,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    intent: str = "human_agent",
    channel: str = "sms",
    summary: str = "The customer asked for a person.",
    address: str = DANA,
    account_number: str | None = "1000417",
    customer_text: str = "",
    level: str | None = None,
    priority: int | None = None,
    inbound: str | None = "I want to talk to a person",
    inbound_meta: dict[str, Any] | None = None,
    external_id: str | None = None,
    callback_number: str = "",
) -> Ticket:
    """A ticket opened the way the channels open one (conversation, transcript, hand-off)."""
    conversation, _ = get_or_open_conversation(
        session=session,
        channel=channel,
        external_id=external_id or address,
        now=now,
        customer_address=address,
    )
    account = None
    if account_number:
        account = session.scalar(select(Account).where(Account.number == account_number))
        assert account is not None
        conversation.account_id = account.id
        conversation.verification_tier = 1
    if inbound is not None:
        record_contact(
            session=session,
            channel=channel,
            direction="inbound",
            kind="message",
            body=inbound,
            at=now,
            conversation=conversation,
            account=account,
            meta=inbound_meta or {},
            external_id=(inbound_meta or {}).get("message_id"),
        )
    ticket = open_ticket(
        session=session,
        calendar=calendar,
        intent=intent,
        channel=channel,
        summary=summary,
        now=now,
        conversation=conversation,
        account=account,
        customer_text=customer_text,
        level=level,
        priority=priority,
        callback_number=callback_number,
    )
    session.commit()
    return ticket


@pytest.fixture
def twilio_recorder() -> Iterator[TwilioRecorder]:
    with twilio_api() as recorder:
        yield recorder


@pytest.fixture
def csr_app(
    gateway: LiveServer,
    seeded: Session,
    engine: Engine,
    clock: FixedClock,
    calendar: BusinessCalendar,
    twilio_recorder: TwilioRecorder,
) -> Iterator[CsrApp]:
    """The live gateway on this test's seeded database; SMS goes to the recording server."""
    current: Services = gateway.app.state.services
    twilio_settings = current.settings.twilio.model_copy(
        update={
            "account_sid": twilio_recorder.account_sid,
            "api_base": twilio_recorder.url,
        }
    )
    twilio_settings.auth_token = SecretStr(twilio_recorder.auth_token)
    settings = current.settings.model_copy(update={"twilio": twilio_settings})
    services = build_services(
        settings,
        engine=engine,
        clock=clock,
        http=current.http,
        sms_sender=SmsSender(
            client=make_twilio_client(settings),
            settings=settings,
            clock=clock,
            pacer=SendPacer(1000.0),
        ),
    )
    gateway.app.state.services = services
    app = CsrApp(
        server=gateway,
        services=services,
        sessions=make_sessionmaker(engine),
        clock=clock,
        calendar=calendar,
        twilio=twilio_recorder,
    )
    try:
        yield app
    finally:
        app.close()
        services.http_sync.close()
        gateway.app.state.services = current


@pytest.fixture
def api() -> Iterator[TwilioRecorder]:
    """A recording Twilio API that also accepts calls (paging tests)."""
    with twilio_api_with_calls() as recorder:
        yield recorder
