"""The queue page's live rows over real HTTP."""

from __future__ import annotations

from tests.escalation.conftest import CsrApp, new_ticket


def test_queue_rows_fragment_updates(csr_app: CsrApp) -> None:
    client = csr_app.browser("csr1")
    empty = client.get("/csr/queue/rows")
    assert empty.status_code == 200 and "No tickets here." in empty.text
    with csr_app.sessions() as session:
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
    fresh = client.get("/csr/queue/rows")
    assert f'data-ticket="{ticket_id}"' in fresh.text
    assert fresh.headers["X-Queue-Total"] == "1"
