"""Helpers for the notice tests: a notice to announce, its outbox rows, a real SMS sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import Notice, OutboundMessage
from accounts.settings import Settings
from channels.outbound_sms import RetryPolicy, SendPacer, SmsSender
from channels.twilio_rest import make_twilio_client
from notices.announce import AnnounceReport, announce_notice
from notices.lifecycle import create_notice
from tests.utils.twilio_server import TwilioRecorder

DANA, MARIA, LINH = "+15305550101", "+15305550102", "+15305550104"


def local(calendar: BusinessCalendar, *args: int) -> datetime:
    return datetime(*args, tzinfo=calendar.tz).astimezone(UTC)


def new_notice(session: Session, now: datetime, **overrides: object) -> Notice:
    fields: dict[str, object] = {
        "kind": "unplanned_outage",
        "title": "Water main break on Pine Street",
        "zones": ["North"],
        "streets": [],
        "text_en": "Crews are repairing a main break. Water is off until the repair is done.",
        "text_es": "Estamos reparando una tubería rota. El agua está cortada hasta terminar.",
        "estimated_restoration_at": now + timedelta(hours=3),
    }
    fields.update(overrides)
    return create_notice(session=session, now=now, **fields)  # type: ignore[arg-type]


def announce(
    session: Session,
    notice: Notice,
    event: str,
    now: datetime,
    calendar: BusinessCalendar,
    settings: Settings,
) -> AnnounceReport:
    return announce_notice(
        session=session, notice=notice, event=event, now=now, calendar=calendar, settings=settings
    )


def rows_of(session: Session, notice: Notice, status: str | None = None) -> list[OutboundMessage]:
    statement = select(OutboundMessage).where(OutboundMessage.notice_id == notice.id)
    if status:
        statement = statement.where(OutboundMessage.status == status)
    return list(session.scalars(statement.order_by(OutboundMessage.id)))


def real_sender(settings: Settings, api: TwilioRecorder, clock: FixedClock) -> SmsSender:
    rest = settings.model_copy(
        update={
            "public_base_url": "https://water.example.org",
            "twilio": settings.twilio.model_copy(
                update={
                    "account_sid": api.account_sid,
                    "auth_token": SecretStr(api.auth_token),
                    "api_base": api.url,
                    "from_number": "+15305550100",
                    "messaging_service_sid": "",
                }
            ),
        }
    )
    return SmsSender(
        client=make_twilio_client(rest),
        settings=rest,
        clock=clock,
        pacer=SendPacer(1000.0, sleep=lambda _: None),
        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        sleep=lambda _: None,
    )
