"""``assistant oncall watch``: the after-hours worker, run as the real command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_sessionmaker
from accounts.models import Page
from accounts.settings import Settings
from channels.outbound_sms import SmsSender
from channels.page_calls import ACK_PATH
from escalation.page_transport import TwilioPageTransport
from escalation.paging import page_for_emergency
from tests.escalation.paging_support import emergency_ticket
from tests.utils.command_line import assistant


def test_watch_re_pages_an_unacknowledged_emergency(
    seeded: Session,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    clock: FixedClock,
    calendar: BusinessCalendar,
) -> None:
    session = seeded
    paged_at = clock.now() - timedelta(minutes=6)
    printed: list[str] = []
    transport = TwilioPageTransport(
        sms_sender=SmsSender(
            client=None, settings=_settings(), clock=clock, console=printed.append
        ),
        client=None,
        settings=_settings(),
        clock=clock,
        ack_path=ACK_PATH,
        console=printed.append,
    )
    ticket = emergency_ticket(session, calendar, paged_at)
    page_for_emergency(session=session, ticket=ticket, now=paged_at, transport=transport)
    session.commit()
    assert len(printed) == 2  # SMS and call on the console

    watched = assistant(db_url, tmp_path, "oncall", "watch", "--once")
    assert watched.returncode == 0, watched.stderr
    assert "paging steps: 1" in watched.stdout
    assert "[page call to +1530***50]" in watched.stdout
    with make_sessionmaker(engine)() as fresh:
        pages = fresh.scalars(select(Page).where(Page.ticket_id == ticket.id)).all()
        assert [(p.attempt, p.status) for p in pages] == [
            (1, "expired"),
            (1, "expired"),
            (2, "sent"),
            (2, "sent"),
        ]


def _settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]
