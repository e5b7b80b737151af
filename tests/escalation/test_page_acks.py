"""On-call staff acknowledge a page by text: only roster phones, only "ACK", the latest first."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_sessionmaker
from accounts.models import Page, Ticket
from accounts.settings import Settings
from escalation.page_acks import handle_page_reply
from escalation.paging import page_for_emergency, paging_state, tick
from tests.escalation.paging_support import (
    DANA,
    POLICY,
    SAM,
    emergency_ticket,
    log_kinds,
    paged_over_http,
    real_transport,
    rest_settings,
)
from tests.utils.twilio_server import TwilioRecorder


def test_sms_ack_stops_the_paging(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now())
    page_for_emergency(
        session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
    )
    session.commit()

    clock.advance(timedelta(minutes=2))
    reply = handle_page_reply(
        session=session, from_number="(530) 555-0150", body=" ack ", now=clock.now()
    )
    session.commit()
    assert reply is not None and f"#{ticket.id}" in reply and "450 Oak Street" in reply
    assert paging_state(session=session, ticket=ticket) == "acked"
    acked = session.scalars(select(Page).where(Page.status == "acked")).one()
    assert acked.phone == SAM and acked.channel == "sms" and acked.acked_at == clock.now()

    # Nothing more goes out, however long we wait.
    requests_before = len(api.requests)
    for _ in range(4):
        clock.advance(timedelta(minutes=6))
        assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 0
    assert len(api.requests) == requests_before
    assert log_kinds(session, ticket)[-1] == "page_ack"
    # A second ACK is answered but changes nothing.
    again = handle_page_reply(
        session=session, from_number=SAM, body=f"ACK {ticket.id}", now=clock.now()
    )
    assert again is not None and "already acknowledged" in again


def test_only_on_call_staff_can_ack_and_only_with_ack(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now())
    page_for_emergency(
        session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
    )
    # A customer texting "ACK" goes on to the assistant.
    assert handle_page_reply(session=session, from_number=DANA, body="ACK", now=clock.now()) is None
    # Staff texting something else too.
    assert (
        handle_page_reply(
            session=session, from_number=SAM, body="what is my balance?", now=clock.now()
        )
        is None
    )
    assert (
        handle_page_reply(session=session, from_number=SAM, body="ACK 99999", now=clock.now())
        == "No emergency #99999 to acknowledge."
    )
    assert paging_state(session=session, ticket=ticket) == "waiting"


def test_two_emergencies_ack_the_latest_and_name_the_other(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    transport = real_transport(rest_settings(settings, api), clock)
    first = emergency_ticket(session, calendar, clock.now())
    page_for_emergency(
        session=session, ticket=first, now=clock.now(), transport=transport, policy=POLICY
    )
    clock.advance(timedelta(minutes=1))
    second = emergency_ticket(
        session,
        calendar,
        clock.now(),
        caller="+15305550105",
        address="2250 Sycamore Drive",
        description="Sewer backing up",
    )
    page_for_emergency(
        session=session, ticket=second, now=clock.now(), transport=transport, policy=POLICY
    )
    reply = handle_page_reply(session=session, from_number=SAM, body="ACK", now=clock.now())
    assert reply is not None
    assert f"#{second.id}" in reply and "ACK <number>" in reply and f"#{first.id}" in reply
    assert paging_state(session=session, ticket=second) == "acked"
    assert paging_state(session=session, ticket=first) == "waiting"


def test_ack_texted_to_the_sms_webhook_acknowledges(
    seeded: Session,
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    with paged_over_http(engine, settings, clock, calendar, api) as (_, webhook, ticket_id):
        sessions = make_sessionmaker(engine)
        response = webhook.post(
            "/twilio/sms",
            {
                "MessageSid": "SM" + "7" * 32,
                "From": SAM,
                "To": "+15305550100",
                "Body": f"ack {ticket_id}",
                "AccountSid": api.account_sid,
            },
        )
        assert response.status_code == 200, response.text
        bodies = [m.text or "" for m in ElementTree.fromstring(response.text).iter("Message")]
        assert bodies == [f"Acknowledged emergency #{ticket_id} at 450 Oak Street. Thank you."]
        with sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None and paging_state(session=session, ticket=ticket) == "acked"
