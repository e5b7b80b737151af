"""Sending what is due: consent checked at send time, each message on the contact log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import ContactLog, OutboundMessage
from accounts.services.consent import record_opt_out
from accounts.settings import Settings
from inbox.reply import SmtpSender
from notices.dispatch import dispatch_due
from tests.notices.support import LINH, announce, new_notice, real_sender, rows_of
from tests.utils.smtp_server import SmtpTestServer, smtp_server
from tests.utils.twilio_server import TwilioRecorder

__all__ = ["smtp_server"]


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
