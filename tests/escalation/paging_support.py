"""Helpers for the paging tests: the recording Twilio API extended with ``Calls.json``.

``tests/utils/twilio_server.py`` (the channels' recording server) answers the
Messages resource; a page also places a call, so this wraps the same handler
and adds an answer for ``POST .../Calls.json`` shaped like Twilio's.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import ThreadingHTTPServer

from pydantic import SecretStr
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import Ticket
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_accounts_by_phone
from accounts.services.service_requests import create_service_request
from accounts.services.tickets import open_ticket
from accounts.settings import Settings
from channels.outbound_sms import RetryPolicy, SendPacer, SmsSender
from channels.twilio_rest import make_twilio_client
from escalation.paging import TwilioPageTransport
from tests.utils.servers import free_port
from tests.utils.twilio_server import TwilioRecorder, _handler

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
    """The recording Twilio API, also answering ``Calls.json`` (201 + a call resource)."""
    recorder = TwilioRecorder(account_sid=account_sid, auth_token=auth_token)
    base = _handler(recorder)

    class Handler(base):  # type: ignore[valid-type,misc]
        def do_POST(self) -> None:
            prefix = f"/2010-04-01/Accounts/{recorder.account_sid}/Calls.json"
            if self.path.split("?")[0] != prefix:
                super().do_POST()
                return
            request = self._record()
            failure = self._failure()
            if failure is not None:
                self._send_json(
                    failure.status,
                    {"code": failure.code, "message": failure.message, "status": failure.status},
                )
                return
            if (request.auth_user, request.auth_password) != (
                recorder.account_sid,
                recorder.auth_token,
            ):
                self._send_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            if not request.field("To") or not request.field("From"):
                self._send_json(400, {"code": 21201, "message": "No To", "status": 400})
                return
            sid = "CA" + secrets.token_hex(16)
            now = formatdate(usegmt=True)
            self._send_json(
                201,
                {
                    "sid": sid,
                    "account_sid": recorder.account_sid,
                    "to": request.field("To"),
                    "from": request.field("From"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "date_created": now,
                    "date_updated": now,
                    "uri": f"{prefix[:-5]}/{sid}.json",
                },
            )

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{port}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
