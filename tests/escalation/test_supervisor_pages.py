"""The supervisor page and its CSV export (Senior CSRs and managers only)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from accounts.services.conversations import get_or_open_conversation
from tests.escalation.conftest import CsrApp, new_ticket


def test_supervisor_page_and_csv(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        now = csr_app.clock.now()
        new_ticket(session, csr_app.calendar, now, intent="billing_dispute")
        new_ticket(
            session,
            csr_app.calendar,
            now,
            intent="billing_dispute",
            address="+15305550104",
            account_number="1001560",
        )
        new_ticket(
            session,
            csr_app.calendar,
            now,
            intent="human_agent",
            address="+15305550105",
            account_number="1002001",
        )
        # Two conversations the bot finished on its own.
        for number in ("+15305550111", "+15305550112"):
            get_or_open_conversation(
                session=session,
                channel="voice",
                external_id=f"CA{number}",
                now=now,
                customer_address=number,
            )
        session.commit()
    assert csr_app.browser("csr3").get("/csr/supervisor").status_code == 403
    assert csr_app.browser("csr1").get("/csr/supervisor.csv").status_code == 403
    senior = csr_app.browser("senior")
    page = senior.get("/csr/supervisor")
    assert page.status_code == 200
    assert 'id="chart-depth"' in page.text and 'id="chart-reasons"' in page.text
    assert '<span class="big" id="containment">40%</span>' in page.text  # 2 of 5
    exported = senior.get("/csr/supervisor.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = {(r[0], r[1]): r[2] for r in csv.reader(io.StringIO(exported.text))}
    assert rows[("queue_depth", "II:new")] == "2"
    assert rows[("queue_depth", "I:new")] == "1"
    assert rows[("escalation_reason", "billing_dispute")] == "2"
    assert rows[("containment", "conversations")] == "5"
    assert rows[("containment", "contained")] == "2"
    local_hour = csr_app.clock.now().astimezone(csr_app.services.district.tz).hour
    assert rows[("volume", f"sms:{local_hour:02d}")] == "3"
    assert rows[("volume", f"voice:{local_hour:02d}")] == "2"
    assert rows[("past_due", "total")] == "0"
    # Three days later every open ticket is past due (and counted by level).
    csr_app.clock.advance(timedelta(days=3))
    later = senior.get("/csr/supervisor.csv")
    rows = {(r[0], r[1]): r[2] for r in csv.reader(io.StringIO(later.text))}
    assert (rows[("past_due", "total")], rows[("past_due", "I")], rows[("past_due", "II")]) == (
        "3",
        "1",
        "2",
    )
