"""The pager over HTTP: pressing 1 on the page call acknowledges it."""

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
from escalation.paging import paging_state, tick
from tests.escalation.paging_support import (
    POLICY,
    SAM,
    calls_to,
    paged_over_http,
)
from tests.utils.twilio_server import TwilioRecorder


def test_press_1_on_the_page_call_acknowledges_over_http(
    seeded: Session,
    engine: Engine,
    settings: Settings,
    clock: FixedClock,
    calendar: BusinessCalendar,
    api: TwilioRecorder,
) -> None:
    with paged_over_http(engine, settings, clock, calendar, api) as (context, webhook, ticket_id):
        sessions = make_sessionmaker(engine)
        (call,) = calls_to(api, SAM)
        action = ElementTree.fromstring(call.field("Twiml") or "").find("Gather")
        assert action is not None
        url = action.attrib["action"]
        params = {
            "CallSid": "CA" + "2" * 32,
            "From": "+15305550100",
            "To": SAM,
            "AccountSid": api.account_sid,
            "Direction": "outbound-api",
        }

        forged = webhook.post(url, {**params, "Digits": "1"}, signature="bm90LXJpZ2h0")
        assert forged.status_code == 403

        other_key = webhook.post(url, {**params, "Digits": "7"})
        assert other_key.status_code == 200
        repeat = ElementTree.fromstring(other_key.text)
        assert repeat.find("Gather") is not None
        with sessions() as session:
            assert paging_state(session=session, ticket=session.get(Ticket, ticket_id)) == "waiting"

        pressed = webhook.post(url, {**params, "Digits": "1"})
        assert pressed.status_code == 200
        words = " ".join(s.text or "" for s in ElementTree.fromstring(pressed.text).iter("Say"))
        assert "Acknowledged" in words
        assert ElementTree.fromstring(pressed.text).find("Hangup") is not None
        with sessions() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            assert paging_state(session=session, ticket=ticket) == "acked"
            acked = session.scalars(select(Page).where(Page.status == "acked")).one()
            assert acked.channel == "voice" and acked.phone == SAM
            clock.advance(timedelta(minutes=20))
            assert (
                tick(
                    session=session,
                    now=clock.now(),
                    transport=context.pager.transport,
                    policy=POLICY,
                )
                == 0
            )
        assert len(api.requests) == 2
