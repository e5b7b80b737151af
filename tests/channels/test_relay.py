"""The common turn, called directly: lookup, recording, hand-off silence, Rasa failures."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.district import District
from accounts.models import Account, ContactLog, Conversation, Ticket
from accounts.settings import Settings
from channels.base import InboundMessage
from channels.rasa_client import RasaClient
from channels.relay import DuplicateMessage, Relay
from tests.channels.conftest import ScriptedRasa
from tests.utils.servers import free_port


def make_relay(
    http: httpx.AsyncClient,
    url: str,
    settings: Settings,
    clock: FixedClock,
    district: District,
    calendar: BusinessCalendar,
) -> Relay:
    return Relay(
        rasa=RasaClient(http=http, base_url=url),
        settings=settings,
        clock=clock,
        district=district,
        calendar=calendar,
    )


def email(text: str, external_id: str) -> InboundMessage:
    return InboundMessage(
        channel="email", sender="dana.whitfield@example.com", text=text, external_id=external_id
    )


async def test_email_turn_files_on_the_account_and_records_both_ways(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    district: District,
    calendar: BusinessCalendar,
    scripted_rasa: ScriptedRasa,
) -> None:
    async with httpx.AsyncClient() as http:
        relay = make_relay(http, scripted_rasa.url, settings, clock, district, calendar)
        result = await relay.turn(
            session=seeded,
            message=email("what is my balance", "<m1@x>"),
            conversation_key="thread-1",
            timeout=2,
        )
    assert result.replies[0].text == "Your balance is $84.20, due Dec 6."
    dana = seeded.scalars(select(Account).where(Account.number == "1000417")).one()
    assert result.conversation.account_id == dana.id
    assert scripted_rasa.received[0]["metadata"]["account_hint"] == "1000417"
    assert scripted_rasa.received[0]["metadata"]["caller"] == "dana.whitfield@example.com"
    entries = seeded.scalars(
        select(ContactLog).where(ContactLog.conversation_id == result.conversation.id)
    ).all()
    assert [(e.direction, e.account_id) for e in entries][:2] == [
        ("inbound", dana.id),
        ("outbound", dana.id),
    ]


async def test_rasa_unreachable_apologises_opens_ticket_and_loses_nothing(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    district: District,
    calendar: BusinessCalendar,
) -> None:
    async with httpx.AsyncClient() as http:
        relay = make_relay(
            http, f"http://127.0.0.1:{free_port()}", settings, clock, district, calendar
        )
        result = await relay.turn(
            session=seeded,
            message=email("my basement is flooding from the sewer", "<m2@x>"),
            conversation_key="thread-2",
            timeout=1,
        )
    assert result.degraded and result.ticket_id is not None
    assert "will follow up" in result.replies[0].text
    ticket = seeded.get(Ticket, result.ticket_id)
    assert ticket is not None and "basement is flooding" in ticket.summary
    conversation = seeded.get(Conversation, result.conversation.id)
    assert conversation is not None and conversation.status == "handed_off"
    inbound = seeded.scalars(select(ContactLog).where(ContactLog.external_id == "<m2@x>")).one()
    assert inbound.body == "my basement is flooding from the sewer"


async def test_slow_rasa_is_bounded_and_duplicates_refused(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    district: District,
    calendar: BusinessCalendar,
    scripted_rasa: ScriptedRasa,
) -> None:
    scripted_rasa.delay = 2.0
    async with httpx.AsyncClient() as http:
        relay = make_relay(http, scripted_rasa.url, settings, clock, district, calendar)
        result = await relay.turn(
            session=seeded,
            message=email("hello", "<m3@x>"),
            conversation_key="thread-3",
            timeout=0.3,
        )
        assert result.degraded
        with pytest.raises(DuplicateMessage):
            await relay.turn(
                session=seeded,
                message=email("hello", "<m3@x>"),
                conversation_key="thread-3",
                timeout=0.3,
            )


async def test_sms_threads_time_out_but_calls_do_not(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    district: District,
    calendar: BusinessCalendar,
    scripted_rasa: ScriptedRasa,
) -> None:
    from datetime import timedelta

    async with httpx.AsyncClient() as http:
        relay = make_relay(http, scripted_rasa.url, settings, clock, district, calendar)
        sms = InboundMessage(channel="sms", sender="+15305550101", text="hi", external_id="SM1")
        first = await relay.turn(
            session=seeded, message=sms, conversation_key="+15305550101", timeout=2
        )
        clock.advance(timedelta(minutes=settings.conversation_timeout_minutes + 1))
        sms2 = InboundMessage(channel="sms", sender="+15305550101", text="hi", external_id="SM2")
        second = await relay.turn(
            session=seeded, message=sms2, conversation_key="+15305550101", timeout=2
        )
    assert second.created and second.conversation.id != first.conversation.id
    assert relay.conversation_timeout("voice") is None


async def test_customer_reply_reopens_a_waiting_ticket(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    district: District,
    calendar: BusinessCalendar,
) -> None:
    async with httpx.AsyncClient() as http:
        relay = make_relay(
            http, f"http://127.0.0.1:{free_port()}", settings, clock, district, calendar
        )
        first = await relay.turn(
            session=seeded,
            message=email("my meter box lid is broken", "<w1@x>"),
            conversation_key="thread-w",
            timeout=1,
        )
        ticket = seeded.get(Ticket, first.ticket_id)
        assert ticket is not None
        ticket.status = "waiting"  # the CSR asked the customer something
        seeded.commit()
        await relay.turn(
            session=seeded,
            message=email("here is the photo you asked for", "<w2@x>"),
            conversation_key="thread-w",
            timeout=1,
        )
    seeded.refresh(ticket)
    assert ticket.status == "new"
    reply = seeded.scalars(select(ContactLog).where(ContactLog.external_id == "<w2@x>")).one()
    assert reply.ticket_id == ticket.id
