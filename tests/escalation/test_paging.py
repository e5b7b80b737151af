"""Emergency paging with a controllable clock and the real twilio client.

Pages go through the channels' SMS sender and ``calls.create`` of the real
``twilio`` library against a local recording Twilio API; acknowledgments come
back as an SMS reply and as a signed "press 1" webhook over HTTP.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import ContactLog, OutboundMessage, Page, Ticket
from accounts.settings import Settings
from escalation.oncall import add_shift
from escalation.page_acks import handle_page_reply
from escalation.paging import page_for_emergency, paging_state, tick
from tests.escalation.paging_support import (
    DANA,
    LEE,
    POLICY,
    PUBLIC_BASE,
    SAM,
    at_local,
    calls_to,
    emergency_ticket,
    log_kinds,
    real_transport,
    rest_settings,
    sms_to,
)
from tests.utils.twilio_server import TwilioRecorder


def test_emergency_pages_primary_by_sms_and_call(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    clock.set(at_local(calendar, 2026, 11, 24, 23, 40))  # Tuesday night: office closed
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now())

    pages = page_for_emergency(
        session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
    )
    session.commit()

    assert [(p.channel, p.phone, p.role, p.attempt, p.status) for p in pages] == [
        ("sms", SAM, "primary", 1, "sent"),
        ("voice", SAM, "primary", 1, "sent"),
    ]
    (sms,) = sms_to(api, SAM)
    body = sms.field("Body") or ""
    assert sms.auth_user == api.account_sid and sms.field("From") == "+15305550100"
    assert "450 Oak Street" in body and DANA in body and "gushing" in body
    assert f"Reply ACK {ticket.id}" in body
    (call,) = calls_to(api, SAM)
    twiml = ElementTree.fromstring(call.field("Twiml") or "")
    gather = twiml.find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1"
    action = urlsplit(gather.attrib["action"])
    assert f"{action.scheme}://{action.netloc}" == PUBLIC_BASE
    assert action.path == "/twilio/page/ack"
    assert parse_qs(action.query)["page"] == [str(pages[1].id)]
    spoken = " ".join(s.text or "" for s in gather.iter("Say"))
    assert "450 Oak Street" in spoken and "Press 1" in spoken and "5 3 0" in spoken

    # Both pages are in the outbox, with Twilio's ids.
    rows = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.purpose == "page")
        .order_by(OutboundMessage.id)
    ).all()
    assert sorted(r.channel for r in rows) == ["sms", "voice"]
    assert all(r.ticket_id == ticket.id and r.provider_id for r in rows)
    assert next(r for r in rows if r.channel == "voice").provider_id.startswith("CA")
    # Every step is on the ticket's contact log, and the ticket tops the queue.
    assert log_kinds(session, ticket) == ["escalation", "page", "page"]
    assert session.get(Ticket, ticket.id).priority == 0
    # Paging again (a retried request) does not page twice.
    assert (
        page_for_emergency(
            session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
        )
        == []
    )
    assert len(api.requests) == 2


def test_no_ack_repages_then_pages_the_backup_then_gives_up(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    clock.set(at_local(calendar, 2026, 11, 28, 3, 15))  # Saturday, 3:15 AM
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now())
    page_for_emergency(
        session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
    )
    session.commit()

    clock.advance(timedelta(minutes=4, seconds=59))
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 0
    assert len(sms_to(api, SAM)) == 1

    clock.advance(timedelta(seconds=1))  # 5 minutes: re-page the primary
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    assert len(sms_to(api, SAM)) == 2 and len(calls_to(api, SAM)) == 2
    assert sms_to(api, LEE) == []

    clock.advance(timedelta(minutes=5))  # then the backup
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    assert len(sms_to(api, LEE)) == 1 and len(calls_to(api, LEE)) == 1
    assert len(sms_to(api, SAM)) == 2

    clock.advance(timedelta(minutes=5))
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    assert len(sms_to(api, LEE)) == 2

    clock.advance(timedelta(minutes=5))  # plan used up: stop, say so on the ticket
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    clock.advance(timedelta(minutes=30))
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 0
    session.commit()
    assert len(api.requests) == 8
    assert paging_state(session=session, ticket=ticket) == "unanswered"
    pages = session.scalars(select(Page).where(Page.ticket_id == ticket.id)).all()
    assert [(p.role, p.attempt) for p in pages if p.channel == "sms"] == [
        ("primary", 1),
        ("primary", 2),
        ("backup", 1),
        ("backup", 2),
    ]
    assert {p.status for p in pages} == {"expired"}
    kinds = log_kinds(session, ticket)
    assert kinds.count("page") == 8 and kinds.count("page_expired") == 4
    assert kinds[-1] == "page_unanswered"
    re_paged = session.scalars(
        select(ContactLog).where(ContactLog.ticket_id == ticket.id, ContactLog.kind == "page")
    ).all()
    assert any("Re-paged primary" in e.body for e in re_paged)

    # A late ACK from the backup is still taken.
    reply = handle_page_reply(session=session, from_number=LEE, body="Ack", now=clock.now())
    assert reply is not None and "Acknowledged" in reply
    assert paging_state(session=session, ticket=ticket) == "acked"


def test_nobody_on_call_is_logged_and_ticket_tops_queue(
    session: Session,
    clock: FixedClock,
    calendar: BusinessCalendar,
    settings: Settings,
    api: TwilioRecorder,
) -> None:
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now(), caller="+15305550199")
    ticket.priority = 2
    assert (
        page_for_emergency(
            session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
        )
        == []
    )
    assert api.requests == []
    assert ticket.priority == 0
    assert log_kinds(session, ticket)[-1] == "page_unanswered"


def test_backup_paged_first_when_no_primary_and_resolved_ticket_stops(
    session: Session,
    clock: FixedClock,
    calendar: BusinessCalendar,
    settings: Settings,
    api: TwilioRecorder,
) -> None:
    now = clock.now()
    add_shift(
        session=session,
        name="Lee Park",
        phone=LEE,
        role="backup",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=12),
    )
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, now, caller="+15305550199")
    pages = page_for_emergency(
        session=session, ticket=ticket, now=now, transport=transport, policy=POLICY
    )
    assert {(p.role, p.phone) for p in pages} == {("backup", LEE)}
    assert "page_skipped" in log_kinds(session, ticket)

    ticket.status = "resolved"
    clock.advance(timedelta(minutes=6))
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    assert log_kinds(session, ticket)[-1] == "page_stopped"
    assert len(api.requests) == 2


def test_twilio_refusing_the_sms_still_calls_and_escalates(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now())
    api.fail_next(status=400, code=21211, message="Invalid 'To' Phone Number")
    pages = page_for_emergency(
        session=session, ticket=ticket, now=clock.now(), transport=transport, policy=POLICY
    )
    assert {p.channel: p.status for p in pages} == {"sms": "failed", "voice": "sent"}
    assert len(calls_to(api, SAM)) == 1
    clock.advance(timedelta(minutes=5))
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    assert len(sms_to(api, SAM)) == 2  # the failed one was recorded too


def test_tick_pages_an_emergency_whose_first_page_never_happened(
    seeded: Session,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    session = seeded
    transport = real_transport(rest_settings(settings, api), clock)
    ticket = emergency_ticket(session, calendar, clock.now())  # opened, paging crashed
    old = emergency_ticket(session, calendar, clock.now() - timedelta(hours=7))
    session.commit()
    clock.advance(timedelta(seconds=20))
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 1
    assert paging_state(session=session, ticket=ticket) == "waiting"
    assert paging_state(session=session, ticket=old) == "none"  # too old: the queue has it
    assert len(sms_to(api, SAM)) == 1
    assert tick(session=session, now=clock.now(), transport=transport, policy=POLICY) == 0
