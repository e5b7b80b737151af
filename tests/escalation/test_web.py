"""The CSR web app over real HTTP: login, cookies, CSRF, escaping, roles, supervisor page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Account, ContactLog, Customer
from tests.escalation.conftest import CsrApp, csrf_of, new_ticket

XSS_SMS = '<script>alert("sms")</script><img src=x onerror=alert(1)>'
XSS_SUBJECT = '"><svg onload=alert("subject")>'
XSS_NAME = "Dana <b onmouseover=alert('name')>Whitfield</b>"


def test_login_sets_a_safe_session_cookie(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    page = client.get("/csr/login")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    response = client.post(
        "/csr/login",
        data={"username": "csr1", "password": "district-demo", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("csr_session=")
    )
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    queue_page = client.get("/csr/")
    assert queue_page.status_code == 200
    assert "Casey Ruiz" in queue_page.text


def test_login_without_csrf_token_is_refused(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    client.get("/csr/login")
    response = client.post(
        "/csr/login", data={"username": "csr1", "password": "district-demo", "csrf_token": "x"}
    )
    assert response.status_code == 403
    assert "csr_session=" not in response.headers.get("set-cookie", "")


def test_failed_logins_are_rate_limited(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    for _ in range(5):
        page = client.get("/csr/login")
        response = client.post(
            "/csr/login",
            data={"username": "csr3", "password": "wrong", "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 401
        assert "Wrong username or password" in response.text
    page = client.get("/csr/login")
    response = client.post(
        "/csr/login",
        data={"username": "csr3", "password": "district-demo", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 429
    assert "csr_session=" not in response.headers.get("set-cookie", "")


ACTIONS = [
    ("claim", {}),
    ("release", {}),
    ("waiting", {}),
    ("reply", {"text": "hello"}),
    ("note", {"text": "note"}),
    ("resolve", {"disposition": "answered", "note": ""}),
    ("escalate", {"level": "II", "reason": "why"}),
    ("reassign", {"username": "csr2"}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_every_form_needs_its_csrf_token(
    csr_app: CsrApp, action: str, data: dict[str, str]
) -> None:
    with csr_app.sessions() as session:
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
    client = csr_app.browser("senior")
    token = csr_app.form_token(client)
    if action not in ("claim",):
        assert (
            client.post(f"/csr/tickets/{ticket_id}/claim", data={"csrf_token": token}).status_code
            == 303
        )
    before = csr_app.ticket(ticket_id)
    for bad in (
        {},
        {"csrf_token": "forged"},
        {"csrf_token": token[:-1] + ("0" if token[-1] != "0" else "1")},
    ):
        response = client.post(f"/csr/tickets/{ticket_id}/{action}", data={**data, **bad})
        assert response.status_code == 403, (action, bad)
    after = csr_app.ticket(ticket_id)
    assert (after.status, after.claimed_by_id, after.level) == (
        before.status,
        before.claimed_by_id,
        before.level,
    )
    # Another session's token does not work either.
    other = csr_app.browser("manager")
    foreign = csr_app.form_token(other)
    response = client.post(
        f"/csr/tickets/{ticket_id}/{action}", data={**data, "csrf_token": foreign}
    )
    assert response.status_code == 403
    # With the right token the action goes through.
    response = client.post(f"/csr/tickets/{ticket_id}/{action}", data={**data, "csrf_token": token})
    assert response.status_code == 303, response.text


def test_customer_text_is_escaped_everywhere(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        account = session.scalar(select(Account).where(Account.number == "1000417"))
        assert account is not None
        customer = session.get(Customer, account.customer_id)
        assert customer is not None
        customer.name = XSS_NAME
        session.commit()
        sms = new_ticket(
            session,
            csr_app.calendar,
            csr_app.clock.now(),
            inbound=XSS_SMS,
            summary=f"Customer wrote: {XSS_SMS}",
        ).id
        email = new_ticket(
            session,
            csr_app.calendar,
            csr_app.clock.now(),
            channel="email",
            address="dana.whitfield@example.com",
            external_id="t-xss",
            summary=f"Subject: {XSS_SUBJECT}",
            inbound=f"{XSS_SUBJECT}\n\nbody",
            inbound_meta={"subject": XSS_SUBJECT, "message_id": "<x@example.com>"},
        ).id
    client = csr_app.browser("csr1")
    pages = [
        client.get(f"/csr/tickets/{sms}").text,
        client.get(f"/csr/tickets/{email}").text,
        client.get("/csr/").text,
        client.get("/csr/queue/rows").text,
        client.get(f"/csr/tickets/{sms}/transcript").text,
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
        assert "<svg onload" not in html
        assert "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&#34;sms&#34;)&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0]
    assert "Dana &lt;b onmouseover=alert(&#39;name&#39;)&gt;Whitfield&lt;/b&gt;" in pages[0]
    assert "&#34;&gt;&lt;svg onload=alert(&#34;subject&#34;)&gt;" in pages[1]
    assert '<dd id="subject">&#34;&gt;&lt;svg onload=alert(&#34;subject&#34;)&gt;</dd>' in pages[1]
    # The API returns the raw text as JSON data (escaping is the renderer's job).
    api = csr_app.api("csr1")
    detail = api.get(f"/api/tickets/{sms}").json()
    assert XSS_SMS in [entry["body"] for entry in detail["transcript"]]


def test_ticket_above_level_is_a_403_page(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        ticket_id = new_ticket(
            session, csr_app.calendar, csr_app.clock.now(), intent="billing_dispute"
        ).id
    client = csr_app.browser("csr1")
    response = client.get(f"/csr/tickets/{ticket_id}")
    assert response.status_code == 403
    assert "Not allowed" in response.text
    token = csr_app.form_token(client)
    claim = client.post(f"/csr/tickets/{ticket_id}/claim", data={"csrf_token": token})
    assert claim.status_code == 403
    reassign = client.post(
        f"/csr/tickets/{ticket_id}/reassign", data={"csrf_token": token, "username": "csr1"}
    )
    assert reassign.status_code == 403
    assert csr_app.ticket(ticket_id).claimed_by_id is None


def test_claim_conflict_is_a_409_page(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
    first, second = csr_app.browser("csr1"), csr_app.browser("csr2")
    assert (
        first.post(
            f"/csr/tickets/{ticket_id}/claim", data={"csrf_token": csr_app.form_token(first)}
        ).status_code
        == 303
    )
    response = second.post(
        f"/csr/tickets/{ticket_id}/claim", data={"csrf_token": csr_app.form_token(second)}
    )
    assert response.status_code == 409
    assert "held by csr1" in response.text


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
        from accounts.services.conversations import get_or_open_conversation

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


def test_queue_rows_fragment_updates(csr_app: CsrApp) -> None:
    client = csr_app.browser("csr1")
    empty = client.get("/csr/queue/rows")
    assert empty.status_code == 200 and "No tickets here." in empty.text
    with csr_app.sessions() as session:
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
    fresh = client.get("/csr/queue/rows")
    assert f'data-ticket="{ticket_id}"' in fresh.text
    assert fresh.headers["X-Queue-Total"] == "1"
    script = client.get("/csr/static/csr.js")
    assert script.status_code == 200 and "data-poll" in script.text
    assert client.get("/csr/static/../web.py").status_code == 404


def test_web_actions_are_in_the_contact_log(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
    client = csr_app.browser("csr1")
    token = csr_app.form_token(client)
    for action, data in (
        ("claim", {}),
        ("note", {"text": "checked the meter read"}),
        ("reply", {"text": "We are checking."}),
        ("waiting", {}),
        ("resolve", {"disposition": "answered", "note": "ok"}),
    ):
        response = client.post(
            f"/csr/tickets/{ticket_id}/{action}", data={**data, "csrf_token": token}
        )
        assert response.status_code == 303, (action, response.text)
    with csr_app.sessions() as session:
        entries = session.scalars(
            select(ContactLog).where(
                ContactLog.ticket_id == ticket_id, ContactLog.actor == "csr:csr1"
            )
        ).all()
    kinds = [(e.kind, e.meta.get("action")) for e in entries]
    assert ("csr_action", "claim") in kinds
    assert ("note", "note") in kinds
    assert ("message", None) in kinds  # the SMS reply, logged by the sender
    assert ("csr_action", "waiting") in kinds
    assert ("csr_action", "resolve") in kinds
