"""``assistant notice ...`` run as the real command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.db import make_sessionmaker
from accounts.models import ContactLog, Notice, OutboundMessage
from tests.utils.command_line import assistant


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
