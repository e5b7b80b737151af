"""Outbound SMS through the real twilio client against a local recording Twilio API."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import ContactLog, OutboundMessage
from accounts.services.consent import is_opted_out, record_opt_out
from accounts.settings import Settings
from channels.base import CustomerInputError
from channels.outbound_sms import (
    RetryPolicy,
    SendPacer,
    SmsSender,
    apply_status_callback,
    is_transient,
)
from channels.twilio_rest import RebasedHttpClient, make_twilio_client
from tests.utils.twilio_server import TwilioRecorder, twilio_api

SID = "AC" + "a" * 32
TOKEN = "rest-token"
TO = "+15305550101"


@pytest.fixture
def api() -> Iterator[TwilioRecorder]:
    with twilio_api(SID, TOKEN) as recorder:
        yield recorder


def rest_settings(settings: Settings, api: TwilioRecorder, **twilio: object) -> Settings:
    return settings.model_copy(
        update={
            "public_base_url": "https://water.example.org",
            "twilio": settings.twilio.model_copy(
                update={
                    "account_sid": SID,
                    "auth_token": SecretStr(TOKEN),
                    "api_base": api.url,
                    "messaging_service_sid": "",
                    "from_number": "+15305550100",
                    **twilio,
                }
            ),
        }
    )


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def sender_for(settings: Settings, clock: FixedClock, sleeps: Sleeps | None = None) -> SmsSender:
    sleeps = sleeps or Sleeps()
    return SmsSender(
        client=make_twilio_client(settings),
        settings=settings,
        clock=clock,
        pacer=SendPacer(1000.0, sleep=sleeps),
        retry=RetryPolicy(attempts=3, base_delay=0.2, max_delay=1.0),
        sleep=sleeps,
    )


def test_real_client_posts_to_the_recording_server(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    test_settings = rest_settings(settings, api)
    rows = sender_for(test_settings, clock).send(
        session=session, to="(530) 555-0101", body="Your water is back on.", purpose="notice"
    )
    session.commit()
    assert len(rows) == 1 and rows[0].status == "queued"
    assert rows[0].provider_id is not None and rows[0].provider_id.startswith("SM")
    [request] = api.message_requests()
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert (request.auth_user, request.auth_password) == (SID, TOKEN)
    assert request.field("To") == TO
    assert request.field("From") == "+15305550100"
    assert request.field("Body") == "Your water is back on."
    assert request.field("StatusCallback") == "https://water.example.org/twilio/sms/status"
    logged = session.scalars(select(ContactLog).where(ContactLog.direction == "outbound")).one()
    assert logged.body == "Your water is back on." and logged.channel == "sms"


def test_messaging_service_sender(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    test_settings = rest_settings(settings, api, messaging_service_sid="MG" + "b" * 32)
    rows = sender_for(test_settings, clock).send(session=session, to=TO, body="Hello")
    assert rows[0].status == "accepted"
    [request] = api.message_requests()
    assert request.field("MessagingServiceSid") == "MG" + "b" * 32
    assert request.field("From") is None


def test_long_text_is_split_and_cards_never_leave(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    body = "Card 4111 1111 1111 1111 was declined. " + "Please call us about your bill. " * 20
    rows = sender_for(rest_settings(settings, api), clock).send(session=session, to=TO, body=body)
    assert len(rows) > 1
    sent = [r.field("Body") or "" for r in api.message_requests()]
    assert all(len(b) <= 320 for b in sent)
    assert not any("4111" in b for b in sent)


def test_opted_out_numbers_are_never_sent_to(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    record_opt_out(session=session, address=TO, channel="sms", now=clock.now(), via="test")
    rows = sender_for(rest_settings(settings, api), clock).send(session=session, to=TO, body="Hi")
    assert rows[0].status == "blocked"
    assert api.message_requests() == []


def test_transient_failures_are_retried_with_backoff(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    api.fail_next(1, status=429, code=20429, message="Too Many Requests")
    api.fail_next(1, status=503)
    sleeps = Sleeps()
    rows = sender_for(rest_settings(settings, api), clock, sleeps).send(
        session=session, to=TO, body="Hi"
    )
    assert rows[0].status == "queued" and rows[0].attempts == 3
    assert len(api.message_requests()) == 3
    assert len(sleeps.calls) == 2 and 0.1 <= sleeps.calls[0] <= 0.2 <= sleeps.calls[1] <= 0.4


def test_gives_up_after_the_last_attempt(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    api.fail_next(3, status=500)
    rows = sender_for(rest_settings(settings, api), clock).send(session=session, to=TO, body="Hi")
    assert rows[0].status == "failed" and "gave up after 3" in rows[0].last_error


def test_timeouts_are_transient(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    test_settings = rest_settings(settings, api)
    api.fail_next(1, status=503, delay=1.5)
    sender = sender_for(test_settings, clock)
    sender.client = make_twilio_client(test_settings, timeout=0.5)
    rows = sender.send(session=session, to=TO, body="Hi")
    assert rows[0].status == "queued" and rows[0].attempts == 2


def test_permanent_failures_and_twilio_opt_out_code(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    api.fail_next(1, status=400, code=21610, message="Attempt to send to unsubscribed recipient")
    rows = sender_for(rest_settings(settings, api), clock).send(session=session, to=TO, body="Hi")
    assert rows[0].status == "blocked" and len(api.message_requests()) == 1
    assert is_opted_out(session=session, address=TO, channel="sms")
    api.fail_next(1, status=400, code=21211, message="Invalid 'To' Phone Number")
    rows = sender_for(rest_settings(settings, api), clock).send(
        session=session, to="+15305550123", body="Hi"
    )
    assert rows[0].status == "failed" and "21211" in rows[0].last_error


def test_no_credentials_goes_to_outbox_and_console(
    session: Session, settings: Settings, clock: FixedClock
) -> None:
    printed: list[str] = []
    sender = SmsSender(
        client=make_twilio_client(settings), settings=settings, clock=clock, console=printed.append
    )
    assert sender.client is None
    rows = sender.send(session=session, to=TO, body="Demo message")
    assert rows[0].status == "console"
    assert printed == ["[sms to +1530***01] Demo message"]
    assert session.scalars(select(OutboundMessage)).one().body == "Demo message"


def test_bad_recipient_and_empty_body_are_customer_errors(
    session: Session, settings: Settings, clock: FixedClock
) -> None:
    sender = SmsSender(client=None, settings=settings, clock=clock, console=lambda _: None)
    with pytest.raises(CustomerInputError):
        sender.send(session=session, to="not a number", body="x")
    with pytest.raises(CustomerInputError):
        sender.send(session=session, to=TO, body="   ")


def test_status_callbacks_move_forward_only(
    session: Session, settings: Settings, clock: FixedClock, api: TwilioRecorder
) -> None:
    [row] = sender_for(rest_settings(settings, api), clock).send(session=session, to=TO, body="x")
    assert row.provider_id is not None
    apply_status_callback(
        session=session, message_sid=row.provider_id, status="delivered", now=clock.now()
    )
    apply_status_callback(
        session=session, message_sid=row.provider_id, status="sent", now=clock.now()
    )
    assert row.status == "delivered"
    assert [e["status"] for e in row.headers["status_events"]] == ["delivered", "sent"]
    assert (
        apply_status_callback(session=session, message_sid="SMnope", status="sent", now=clock.now())
        is None
    )


def test_pacer_spaces_sends_per_sender() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = SendPacer(1.0, monotonic=lambda: now[0], sleep=sleep)
    assert pacer.wait_turn("+15305550100") == 0
    assert pacer.wait_turn("+15305550100") == pytest.approx(1.0)
    assert pacer.wait_turn("+15305550100") == pytest.approx(2.0)
    assert pacer.wait_turn("MGother") == 0  # another sender is not held up
    now[0] = 10.0
    assert pacer.wait_turn("+15305550100") == 0


def test_retry_policy_and_transient_classification() -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=2.0)
    rng = random.Random(1)
    delays = [policy.delay(n, rng) for n in range(1, 6)]
    assert 0.25 <= delays[0] <= 0.5 and 1.0 <= delays[-1] <= 2.0
    from twilio.base.exceptions import TwilioRestException

    assert is_transient(TwilioRestException(429, "u"))
    assert is_transient(TwilioRestException(502, "u"))
    assert not is_transient(TwilioRestException(400, "u"))


def test_rebased_client_keeps_paths() -> None:
    client = RebasedHttpClient("http://127.0.0.1:9999/prefix")
    assert client.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1") == (
        "http://127.0.0.1:9999/prefix/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert RebasedHttpClient("").rebase("https://api.twilio.com/a") == "https://api.twilio.com/a"
