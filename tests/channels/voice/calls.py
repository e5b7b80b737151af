"""Helpers for the phone-line tests: a call brought to the menu, and what it left behind."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from accounts.business_calendar import BusinessCalendar
from accounts.district import load_district
from accounts.models import ContactLog, Conversation
from tests.channels.conftest import DANA, Call, Gateway

THANKSGIVING_EVENING = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 19:30 PST, a holiday


def conversation_of(twilio_gateway: Gateway, call: Call) -> Conversation:
    with twilio_gateway.session() as session:
        return session.scalars(
            select(Conversation).where(Conversation.external_id == call.call_sid)
        ).one()


def english_menu(twilio_gateway: Gateway, caller: str = DANA, sid: str = "CA" + "1" * 32) -> Call:
    call = Call(twilio_gateway, caller=caller, call_sid=sid)
    call.start()
    call.silence()  # no language choice: English menu
    return call


def call_log(twilio_gateway: Gateway, call: Call) -> list[ContactLog]:
    conversation = conversation_of(twilio_gateway, call)
    with twilio_gateway.session() as session:
        return list(
            session.scalars(
                select(ContactLog)
                .where(ContactLog.conversation_id == conversation.id)
                .order_by(ContactLog.id)
            )
        )


def gateway_calendar(twilio_gateway: Gateway) -> BusinessCalendar:
    return BusinessCalendar(load_district(twilio_gateway.settings.district_file))
