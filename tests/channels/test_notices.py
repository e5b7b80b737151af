"""Proactive notices: audience, opt-outs, language, quiet hours, pacing, sending, STATUS."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.district import District
from accounts.models import Account, ContactLog, ContactPoint, Notice, OutboundMessage
from accounts.services.consent import record_opt_out
from accounts.settings import Settings
from accounts.sms_text import segment_count
from channels.notices import (
    AnnounceReport,
    NoticeError,
    announce_notice,
    close_notice,
    create_notice,
    dispatch_due,
    latest_status_for,
    parse_street,
    update_notice,
)
from channels.outbound_sms import RetryPolicy, SendPacer, SmsSender
from channels.twilio_rest import make_twilio_client
from inbox.reply import SmtpSender
from tests.utils.smtp_server import SmtpTestServer, smtp_server
from tests.utils.twilio_server import TwilioRecorder, twilio_api

__all__ = ["smtp_server"]

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


def expected_customers(
    session: Session, zone: str, street: str | None = None, low: int = 0, high: int = 10**6
) -> set[int]:
    """Customers affected, computed straight from the accounts table."""
    accounts = session.scalars(
        select(Account).where(Account.zone == zone, Account.status != "closed")
    ).all()
    return {
        a.customer_id
        for a in accounts
        if street is None or (a.street_name == street and low <= (a.street_number or 0) <= high)
    }


def test_outage_reaches_its_street_block_only(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    notice = new_notice(
        session, now, streets=[parse_street("Oak Street:400-700")], title="Main break on Oak Street"
    )
    report = announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    account_ids = {r.headers["account_id"] for r in rows}
    customers = {session.get(Account, a).customer_id for a in account_ids}
    assert customers == expected_customers(session, "North", "Oak Street", 400, 700)
    assert report.recipients == len(customers) and report.recipients >= 1
    dana = [r for r in rows if r.to_address == DANA]
    assert len(dana) >= 1 and dana[0].channel == "sms" and dana[0].purpose == "notice"
    assert "Reply STATUS" in dana[0].body and "Outage:" in dana[0].body
    assert all(r.status == "queued" for r in rows)
    # Nobody from Birch Lane (James Okafor) or another zone.
    assert "+15305550103" not in {r.to_address for r in rows}


def test_opted_out_addresses_never_get_a_message(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    south = session.scalars(
        select(Account).where(Account.zone == "South").order_by(Account.id)
    ).all()
    # Linh stops texts (she has email too); another customer stops everything.
    record_opt_out(session=session, address=LINH, channel="sms", now=now, via="test")
    other = next(a for a in south if a.number != "1001560")
    for point in other.customer.contact_points:
        channel = "sms" if point.kind == "phone" else "email"
        record_opt_out(session=session, address=point.value, channel=channel, now=now, via="t")
    notice = new_notice(
        session,
        now,
        kind="boil_water",
        zones=["South"],
        safety=True,
        title="Boil water",
        estimated_restoration_at=None,
    )
    report = announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    addresses = {(r.channel, r.to_address) for r in rows}
    assert ("sms", LINH) not in addresses
    assert ("email", "linh.tran@example.com") in addresses  # her email consent is separate
    other_points = {p.value for p in other.customer.contact_points}
    assert not other_points & {r.to_address for r in rows}
    assert report.opted_out == 1
    blocked = {"sms": {LINH}, "email": set()}
    for point in other.customer.contact_points:
        blocked["sms" if point.kind == "phone" else "email"].add(point.value)
    assert not any(r.to_address in blocked[r.channel] for r in rows)
    assert "BOIL WATER NOTICE" in rows[0].body


def test_each_customer_gets_their_language(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    notice = new_notice(
        session,
        now,
        kind="planned_work",
        zones=["East"],
        title="Valve work on Cedar Court",
        streets=[parse_street("Cedar Court")],
    )
    announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    maria = [r for r in rows if r.to_address == MARIA]
    assert maria and "Trabajo programado" in maria[0].body and "Responda STATUS" in maria[0].body
    for row in rows:
        account = session.get(Account, row.headers["account_id"])
        expected = "es" if account.customer.language == "es" else "en"
        assert row.headers["language"] == expected
        if row.headers["part"] == 1:
            assert ("Trabajo programado" in row.body) == (expected == "es")


def test_quiet_hours_hold_non_safety_until_morning(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session = seeded
    now = local(calendar, 2026, 11, 24, 22, 30)  # Tuesday 10:30 PM
    notice = new_notice(session, now, zones=["North"])
    report = announce(session, notice, "created", now, calendar, settings)
    morning = local(calendar, 2026, 11, 25, 8, 0)
    rows = rows_of(session, notice)
    assert rows and report.held == report.recipients
    assert all(r.next_attempt_at >= morning and r.not_before is not None for r in rows)
    assert min(r.next_attempt_at for r in rows) == morning
    assert report.first_send_at == morning


def test_safety_notices_go_at_once_even_at_night(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session = seeded
    now = local(calendar, 2026, 11, 24, 23, 45)
    notice = new_notice(
        session, now, kind="boil_water", zones=["South"], safety=True, estimated_restoration_at=None
    )
    report = announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    assert report.held == 0 and report.first_send_at == now
    sms = sorted((r for r in rows if r.channel == "sms"), key=lambda r: r.next_attempt_at)
    # Paced, but not held: the whole batch goes out within seconds, before dawn.
    assert sms[-1].next_attempt_at < now + timedelta(minutes=5)
    assert all(r.not_before is None or r.not_before <= r.next_attempt_at for r in rows)


def test_sms_schedule_is_paced_per_sending_number(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    paced = settings.model_copy(
        update={"twilio": settings.twilio.model_copy(update={"sms_per_second": 2.0})}
    )
    first = new_notice(session, now, zones=["North", "South"])
    announce(session, first, "created", now, calendar, paced)
    sms = [r for r in rows_of(session, first) if r.channel == "sms"]
    sms.sort(key=lambda r: r.next_attempt_at)
    assert len(sms) > 10
    for before, after in itertools.pairwise(sms):
        gap = (after.next_attempt_at - before.next_attempt_at).total_seconds()
        assert gap == pytest.approx(0.5 * segment_count(before.body))
    # A second notice queues behind the first on the same number.
    second = new_notice(session, now, zones=["West"], title="West outage")
    announce(session, second, "created", now, calendar, paced)
    second_sms = sorted(
        (r for r in rows_of(session, second) if r.channel == "sms"), key=lambda r: r.next_attempt_at
    )
    assert second_sms[0].next_attempt_at >= sms[-1].next_attempt_at + timedelta(seconds=0.5)
    # Emails are not held behind the SMS rate.
    emails = [r for r in rows_of(session, first) if r.channel == "email"]
    assert all(r.next_attempt_at == now for r in emails)


def test_a_long_batch_stops_at_quiet_hours_and_resumes_in_the_morning(
    seeded: Session, calendar: BusinessCalendar, settings: Settings
) -> None:
    session = seeded
    now = local(calendar, 2026, 11, 24, 20, 59, 50)  # ten seconds before quiet hours
    notice = new_notice(session, now, zones=["North", "South", "East", "West", "Central"])
    report = announce(session, notice, "created", now, calendar, settings)
    sms = sorted(
        (r for r in rows_of(session, notice) if r.channel == "sms"), key=lambda r: r.next_attempt_at
    )
    quiet = local(calendar, 2026, 11, 24, 21, 0)
    morning = local(calendar, 2026, 11, 25, 8, 0)
    before = [r for r in sms if r.next_attempt_at < quiet]
    after = [r for r in sms if r.next_attempt_at >= quiet]
    assert 1 <= len(before) <= 10 and after
    assert all(r.next_attempt_at >= morning for r in after)
    assert after[0].next_attempt_at == morning
    assert 0 < report.held < report.recipients


@pytest.fixture
def api() -> Iterator[TwilioRecorder]:
    with twilio_api("AC" + "c" * 32, "notice-token") as recorder:
        yield recorder


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


async def test_dispatch_sends_due_messages_and_logs_each_on_the_contact_log(
    seeded: Session,
    clock: FixedClock,
    calendar: BusinessCalendar,
    settings: Settings,
    api: TwilioRecorder,
    smtp_server: SmtpTestServer,
) -> None:
    session, now = seeded, clock.now()
    # Linh stopped texts earlier: she is told by email.
    record_opt_out(session=session, address=LINH, channel="sms", now=now, via="test")
    notice = new_notice(
        session, now, kind="boil_water", zones=["South"], safety=True, estimated_restoration_at=None
    )
    announce(session, notice, "created", now, calendar, settings)
    session.commit()
    # Somebody texts STOP after the notice was queued: their message must not go.
    late_stop = next(r.to_address for r in rows_of(session, notice) if r.channel == "sms")
    record_opt_out(session=session, address=late_stop, channel="sms", now=now, via="test")
    session.commit()
    sender = real_sender(settings, api, clock)
    email = SmtpSender(host=smtp_server.host, port=smtp_server.port)
    clock.advance(timedelta(minutes=10))
    report = await dispatch_due(
        session=session, now=clock.now(), sms=sender, email=email, limit=10_000
    )
    rows = rows_of(session, notice)
    sent_sms = [r for r in rows if r.channel == "sms" and r.sent_at is not None]
    sent_email = [r for r in rows if r.channel == "email" and r.sent_at is not None]
    assert {r.field("To") for r in api.message_requests()} == {r.to_address for r in sent_sms}
    assert late_stop not in {r.field("To") for r in api.message_requests()}
    assert {r.status for r in rows if r.to_address == late_stop} == {"blocked"}
    assert "linh.tran@example.com" in {r.to_address for r in sent_email}
    mails = smtp_server.wait_for(len(sent_email))
    assert {m.rcpt_tos[0] for m in mails} == {r.to_address for r in sent_email}
    assert mails[0].message["Auto-Submitted"] == "auto-generated"
    blocked_rows = [r for r in rows if r.to_address == late_stop]
    assert report.sent == len(sent_sms) + len(sent_email)
    assert report.blocked == len(blocked_rows) >= 1
    logged = session.scalars(select(ContactLog).where(ContactLog.kind == "notice")).all()
    assert len(logged) == report.sent
    assert {e.meta["outbound_id"] for e in logged} == {r.id for r in sent_sms + sent_email}
    for entry in logged:
        row = session.get(OutboundMessage, entry.meta["outbound_id"])
        assert entry.account_id == row.headers["account_id"] and entry.direction == "outbound"
    # Nothing is sent twice.
    again = await dispatch_due(session=session, now=clock.now(), sms=sender, email=email)
    assert again.sent == 0


async def test_update_cancels_what_waits_and_closing_restores_the_loop(
    seeded: Session,
    calendar: BusinessCalendar,
    settings: Settings,
    api: TwilioRecorder,
    clock: FixedClock,
) -> None:
    session = seeded
    evening = local(calendar, 2026, 11, 24, 18, 0)
    clock.set(evening)
    notice = new_notice(session, evening, zones=["West"], title="West outage")
    first = announce(session, notice, "created", evening, calendar, settings)
    sender = real_sender(settings, api, clock)
    report = await dispatch_due(
        session=session, now=evening + timedelta(hours=1), sms=sender, email=None, limit=10_000
    )
    told = {r.to_address for r in rows_of(session, notice) if r.sent_at is not None}
    assert report.sent == first.sms_rows and told

    # Update at 22:00: the update waits until 8 AM...
    night = local(calendar, 2026, 11, 24, 22, 0)
    update_notice(
        session=session,
        notice=notice,
        now=night,
        estimated_restoration_at=night + timedelta(hours=12),
    )
    update = announce(session, notice, "updated", night, calendar, settings)
    assert update.held == update.recipients
    # ...and the email rows still queued from the first announcement were cancelled.
    assert update.canceled == first.email_rows
    # Closed at 2 AM: the waiting update is cancelled; the restoration goes to those told.
    late = local(calendar, 2026, 11, 25, 2, 0)
    close_notice(session=session, notice=notice, now=late)
    closing = announce(session, notice, "closed", late, calendar, settings)
    assert closing.canceled == update.sms_rows + update.email_rows
    restoration = [r for r in rows_of(session, notice) if r.headers["event"] == "closed"]
    assert {r.to_address for r in restoration} == told
    assert all(
        "restored" in r.body
        for r in restoration
        if r.headers["part"] == 1 and r.headers["language"] == "en"
    )
    assert min(r.next_attempt_at for r in restoration) == local(calendar, 2026, 11, 25, 8, 0)
    with pytest.raises(NoticeError):
        close_notice(session=session, notice=notice, now=late)


def test_latest_status_for_a_number(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, district: District
) -> None:
    session, now = seeded, clock.now()
    dana = latest_status_for(
        session=session, phone="(530) 555-0101", now=now, language="en", district=district
    )
    assert "Oak Street" in dana and "Reply STATUS" in dana
    linh = latest_status_for(session=session, phone=LINH, now=now, language="en", district=district)
    assert "BOIL WATER" in linh
    maria = latest_status_for(
        session=session, phone=MARIA, now=now, language="es", district=district
    )
    assert maria.startswith("Valley Springs Water: no hay cortes")  # Maple Avenue is not hers
    robert = latest_status_for(
        session=session, phone="+15305550105", now=now, language="en", district=district
    )
    assert "no outage or notice for your address" in robert
    stranger = latest_status_for(
        session=session, phone="+15305550199", now=now, language="en", district=district
    )
    assert "could not match" in stranger and "Water main break on Oak Street" in stranger
    outage = session.scalars(select(Notice).where(Notice.kind == "unplanned_outage")).one()
    close_notice(session=session, notice=outage, now=now)
    later = now + timedelta(hours=1)
    restored = latest_status_for(
        session=session, phone=DANA, now=later, language="en", district=district
    )
    assert "ended today at" in restored


def test_bad_notice_input_is_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(NoticeError, match="kind"):
        new_notice(session, clock.now(), kind="earthquake")
    with pytest.raises(NoticeError, match="zone"):
        new_notice(session, clock.now(), zones=[])
    with pytest.raises(NoticeError, match="NAME:FROM-TO"):
        parse_street(":400-700")
    with pytest.raises(NoticeError, match="backwards"):
        parse_street("Oak Street:700-400")
    assert parse_street(" Maple Avenue ") == {"street": "Maple Avenue", "from": None, "to": None}


def test_undeliverable_contacts_are_skipped(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar, settings: Settings
) -> None:
    session, now = seeded, clock.now()
    point = session.scalars(select(ContactPoint).where(ContactPoint.value == DANA)).one()
    point.undeliverable = True
    notice = new_notice(session, now, streets=[parse_street("Oak Street:400-700")])
    announce(session, notice, "created", now, calendar, settings)
    rows = rows_of(session, notice)
    assert DANA not in {r.to_address for r in rows}
    assert "dana.whitfield@example.com" in {r.to_address for r in rows}
