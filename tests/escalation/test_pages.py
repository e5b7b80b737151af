"""Every CSR page escapes what customers wrote (and the API returns it raw, as data)."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Account, Customer
from tests.escalation.conftest import CsrApp, new_ticket

XSS_SMS = '<script>alert("sms")</script><img src=x onerror=alert(1)>'
XSS_SUBJECT = '"><svg onload=alert("subject")>'
XSS_NAME = "Dana <b onmouseover=alert('name')>Whitfield</b>"


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
