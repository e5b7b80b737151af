"""``assistant oncall ...`` and ``assistant notice ...`` run as the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.db import make_sessionmaker
from accounts.models import ContactLog, Notice, OutboundMessage, Page
from channels.outbound_sms import SmsSender
from channels.page_calls import ACK_PATH
from escalation.paging import TwilioPageTransport, page_for_emergency
from tests.escalation.paging_support import emergency_ticket

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-24T10:00:00-08:00"  # Tuesday, office open (the clock fixture's instant)


def assistant(
    db_url: str, tmp_path: Path, *args: str, now: str = NOW
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "SMTP_", "IMAP_"))
    }
    env.update(
        DATABASE_URL=db_url,
        ASSISTANT_NOW=now,
        VAR_DIR=str(tmp_path),
        DISTRICT_FILE=str(ROOT / "bot" / "district.yml"),
    )
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_roster_import_and_show(db_url: str, engine: Engine, tmp_path: Path) -> None:
    empty = assistant(db_url, tmp_path, "oncall", "show")
    assert empty.returncode == 1, empty.stderr
    assert "primary  (nobody)" in empty.stdout

    imported = assistant(db_url, tmp_path, "oncall", "import", "bot/oncall.yml")
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 shifts" in imported.stdout and "ACK within 5 min" in imported.stdout

    shown = assistant(db_url, tmp_path, "oncall", "show")
    assert shown.returncode == 0, shown.stderr
    assert "primary  Sam Ortiz +15305550150" in shown.stdout
    assert "backup   Lee Park +15305550151" in shown.stdout
    assert "Tue 2026-11-24 10:00 PST" in shown.stdout

    swap = assistant(
        db_url,
        tmp_path,
        "oncall",
        "add",
        "--name",
        "Kim Diaz",
        "--phone",
        "530 555 0152",
        "--role",
        "primary",
        "--from",
        "2026-11-24 09:00",
        "--to",
        "2026-11-24 21:00",
    )
    assert swap.returncode == 0, swap.stderr
    assert "primary  Kim Diaz +15305550152" in assistant(db_url, tmp_path, "oncall", "show").stdout
    later = assistant(db_url, tmp_path, "oncall", "show", "--at", "2026-11-24 21:00")
    assert "primary  Sam Ortiz" in later.stdout

    bad = assistant(
        db_url,
        tmp_path,
        "oncall",
        "add",
        "--name",
        "X",
        "--phone",
        "nope",
        "--role",
        "primary",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-25",
    )
    assert bad.returncode == 2 and "not a phone number" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_notice_lifecycle_from_the_command_line(
    seeded: Session, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    created = assistant(
        db_url,
        tmp_path,
        "notice",
        "create",
        "--kind",
        "unplanned_outage",
        "--zone",
        "North",
        "--street",
        "Oak Street:400-700",
        "--title",
        "Second break on Oak Street",
        "--text-en",
        "Crews are fixing a second break on Oak Street.",
        "--text-es",
        "Estamos reparando otra ruptura en Oak Street.",
        "--eta",
        "2026-11-24T14:00",
    )
    assert created.returncode == 0, created.stderr
    assert "created:" in created.stdout and "recipients" in created.stdout
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        notice = session.scalars(
            select(Notice).where(Notice.title == "Second break on Oak Street")
        ).one()
        assert notice.streets == [{"street": "Oak Street", "from": 400, "to": 700}]
        assert notice.estimated_restoration_at == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
        queued = session.scalars(
            select(OutboundMessage).where(OutboundMessage.notice_id == notice.id)
        ).all()
        assert queued and "+15305550101" in {r.to_address for r in queued}
        notice_id = notice.id

    listed = assistant(db_url, tmp_path, "notice", "list")
    assert f"#{notice_id} unplanned_outage [active] Second break on Oak Street" in listed.stdout
    assert "Water main break on Oak Street" in listed.stdout  # the seeded ones too

    # The worker sends what is due (console transport: no Twilio credentials).
    watched = assistant(
        db_url, tmp_path, "oncall", "watch", "--once", now="2026-11-24T10:05:00-08:00"
    )
    assert watched.returncode == 0, watched.stderr
    assert f"notice messages sent: {len(queued)}" in watched.stdout
    assert "[sms to +1530***01]" in watched.stdout  # masked: the full number is never printed
    with sessions() as session:
        logged = session.scalars(select(ContactLog).where(ContactLog.kind == "notice")).all()
        assert len(logged) == len(queued)

    updated = assistant(
        db_url,
        tmp_path,
        "notice",
        "update",
        str(notice_id),
        "--eta",
        "2026-11-24T16:00",
        now="2026-11-24T10:10:00-08:00",
    )
    assert updated.returncode == 0, updated.stderr
    closed = assistant(
        db_url, tmp_path, "notice", "close", str(notice_id), now="2026-11-24T12:00:00-08:00"
    )
    assert closed.returncode == 0, closed.stderr
    assert "closed:" in closed.stdout
    with sessions() as session:
        notice = session.get(Notice, notice_id)
        assert notice is not None and notice.status == "closed"
        restoration = [
            r
            for r in session.scalars(
                select(OutboundMessage).where(OutboundMessage.notice_id == notice_id)
            )
            if r.headers.get("event") == "closed"
        ]
        assert {r.to_address for r in restoration} == {r.to_address for r in queued}
    assert f"#{notice_id}" not in assistant(db_url, tmp_path, "notice", "list").stdout
    assert "[closed]" in assistant(db_url, tmp_path, "notice", "list", "--all").stdout

    again = assistant(db_url, tmp_path, "notice", "close", str(notice_id))
    assert again.returncode == 2 and "closed already" in again.stderr
    bad = assistant(
        db_url,
        tmp_path,
        "notice",
        "create",
        "--kind",
        "planned_work",
        "--zone",
        "East",
        "--street",
        "Maple Avenue:9-1",
        "--title",
        "t",
        "--text-en",
        "e",
        "--text-es",
        "s",
    )
    assert bad.returncode == 2 and "backwards" in bad.stderr


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


def _settings():  # type: ignore[no-untyped-def]
    from accounts.settings import Settings

    return Settings(_env_file=None)  # type: ignore[call-arg]
