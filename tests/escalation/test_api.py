"""The CSR JSON API over real HTTP (docs/contract/interfaces.md), on both databases."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import ContactLog, Conversation, OutboundMessage
from tests.escalation.conftest import DANA, CsrApp, new_ticket

LIST_FIELDS = {
    "id",
    "status",
    "level",
    "priority",
    "intent",
    "channel",
    "account",
    "summary",
    "due_at",
    "claimed_by",
}


def open_tickets(app: CsrApp) -> dict[str, int]:
    with app.sessions() as session:
        now = app.clock.now()
        return {
            "sms": new_ticket(session, app.calendar, now, inbound="Can I talk to someone?").id,
            "dispute": new_ticket(
                session,
                app.calendar,
                now,
                intent="billing_dispute",
                address="+15305550105",
                account_number="1002001",
                summary="Bill four times the usual",
            ).id,
            "email": new_ticket(
                session,
                app.calendar,
                now,
                channel="email",
                address="linh.tran@example.com",
                account_number="1001560",
                external_id="thread-1",
                inbound="Please call me about AutoPay",
                inbound_meta={
                    "subject": "AutoPay question",
                    "message_id": "<abc123@mail.example.com>",
                    "references": ["<first@mail.example.com>"],
                },
            ).id,
            "voice": new_ticket(
                session,
                app.calendar,
                now,
                channel="voice",
                address="+15305550103",
                account_number="1001139",
                external_id="CA123",
                inbound="(voicemail) call me",
                callback_number="+15305550103",
            ).id,
        }


def test_token_and_401s(csr_app: CsrApp) -> None:
    anonymous = csr_app.api()
    assert anonymous.get("/api/tickets").status_code == 401
    assert (
        anonymous.get("/api/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert anonymous.get("/api/tickets", headers={"Authorization": "Basic abc"}).status_code == 401
    assert anonymous.post("/api/tickets/1/claim").status_code == 401
    wrong = anonymous.post("/api/auth/token", json={"username": "csr1", "password": "guess"})
    assert wrong.status_code == 401
    assert "token" not in wrong.json()
    good = anonymous.post("/api/auth/token", json={"username": "csr1", "password": "district-demo"})
    assert good.status_code == 200
    token = good.json()["token"]
    # A token with one character changed is refused.
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    headers = {"Authorization": f"Bearer {tampered}"}
    assert anonymous.get("/api/tickets", headers=headers).status_code == 401


#: Every endpoint docs/contract/interfaces.md lists behind the token, with a valid body.
CONTRACT_CALLS = [
    ("GET", "/api/tickets", None),
    ("GET", "/api/tickets?status=new", None),
    ("GET", "/api/tickets/{id}", None),
    ("POST", "/api/tickets/{id}/claim", None),
    ("POST", "/api/tickets/{id}/reply", {"text": "We are on it."}),
    ("POST", "/api/tickets/{id}/resolve", {"disposition": "answered", "note": ""}),
]


def test_contract_endpoints_answer_401_without_a_valid_token(csr_app: CsrApp) -> None:
    ticket = open_tickets(csr_app)["sms"]
    anonymous = csr_app.api()
    for method, path, body in CONTRACT_CALLS:
        url = path.format(id=ticket)
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = anonymous.request(method, url, json=body, headers=headers)
            assert response.status_code == 401, (method, url, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert csr_app.ticket(ticket).status == "new"


def test_contract_endpoints_answer_403_above_the_callers_level(csr_app: CsrApp) -> None:
    dispute = open_tickets(csr_app)["dispute"]  # routed to CSR II
    csr1 = csr_app.api("csr1")
    for method, path, body in CONTRACT_CALLS[2:]:
        url = path.format(id=dispute)
        assert csr1.request(method, url, json=body).status_code == 403, (method, url)
    assert dispute not in {row["id"] for row in csr1.get("/api/tickets").json()}
    assert csr_app.ticket(dispute).status == "new"


def test_status_filter_takes_each_contract_status(csr_app: CsrApp) -> None:
    ids = open_tickets(csr_app)
    csr1 = csr_app.api("csr1")
    assert csr1.post(f"/api/tickets/{ids['sms']}/claim").status_code == 200
    assert csr1.post(f"/api/tickets/{ids['voice']}/claim").status_code == 200
    assert csr1.post(f"/api/tickets/{ids['voice']}/waiting").status_code == 200
    resolved = csr1.post(
        f"/api/tickets/{ids['sms']}/resolve", json={"disposition": "answered", "note": "done"}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    by_status = {
        status: [row["id"] for row in csr1.get("/api/tickets", params={"status": status}).json()]
        for status in ("new", "claimed", "waiting", "resolved")
    }
    assert by_status == {
        "new": [ids["email"]],
        "claimed": [],
        "waiting": [ids["voice"]],
        "resolved": [ids["sms"]],
    }


def test_list_and_detail(csr_app: CsrApp) -> None:
    ids = open_tickets(csr_app)
    csr1 = csr_app.api("csr1")
    listed = csr1.get("/api/tickets")
    assert listed.status_code == 200
    rows = listed.json()
    assert {row["id"] for row in rows} == {ids["sms"], ids["email"], ids["voice"]}
    assert all(set(row) >= LIST_FIELDS for row in rows)
    assert listed.headers["X-Total-Count"] == "3"
    assert csr1.get("/api/tickets", params={"status": "claimed"}).json() == []
    assert csr1.get("/api/tickets", params={"status": "bogus"}).status_code == 422
    csr2_ids = {row["id"] for row in csr_app.api("csr2").get("/api/tickets").json()}
    assert ids["dispute"] in csr2_ids

    detail = csr1.get(f"/api/tickets/{ids['sms']}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["account"] == "1000417"
    assert body["account_summary"]["balance"]["amount_due"] == "84.20"
    bodies = [entry["body"] for entry in body["transcript"]]
    assert "Can I talk to someone?" in bodies
    assert csr1.get(f"/api/tickets/{ids['dispute']}").status_code == 403
    assert csr1.get("/api/tickets/987654").status_code == 404


def test_claim_reply_sms_resolve(csr_app: CsrApp) -> None:
    ids = open_tickets(csr_app)
    csr1, csr2 = csr_app.api("csr1"), csr_app.api("csr2")
    ticket = ids["sms"]
    assert csr1.post(f"/api/tickets/{ticket}/reply", json={"text": "hi"}).status_code == 409
    claimed = csr1.post(f"/api/tickets/{ticket}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "csr1"
    assert csr1.post(f"/api/tickets/{ticket}/claim").status_code == 200  # idempotent
    taken = csr2.post(f"/api/tickets/{ticket}/claim")
    assert taken.status_code == 409 and "csr1" in taken.json()["detail"]
    assert csr2.post(f"/api/tickets/{ticket}/reply", json={"text": "x"}).status_code == 409

    reply = csr1.post(
        f"/api/tickets/{ticket}/reply", json={"text": "Hi Dana, this is Casey from the district."}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["channel"] == "sms"
    assert reply.json()["status"] in ("queued", "accepted", "sent")
    sent = csr_app.twilio.message_requests()
    assert len(sent) == 1
    assert sent[0].field("To") == DANA
    assert sent[0].field("Body") == "Hi Dana, this is Casey from the district."

    assert (
        csr1.post(f"/api/tickets/{ticket}/resolve", json={"disposition": "nope"}).status_code == 422
    )
    assert (
        csr2.post(f"/api/tickets/{ticket}/resolve", json={"disposition": "answered"}).status_code
        == 403
    )
    resolved = csr1.post(
        f"/api/tickets/{ticket}/resolve", json={"disposition": "answered", "note": "done"}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert csr1.post(f"/api/tickets/{ticket}/claim").status_code == 409
    with csr_app.sessions() as session:
        row = csr_app.ticket(ticket)
        conversation = session.get(Conversation, row.conversation_id)
        assert conversation is not None and conversation.status == "open"
        actors = session.scalars(
            select(ContactLog.actor).where(ContactLog.ticket_id == ticket)
        ).all()
        assert actors.count("csr:csr1") >= 3  # claim, reply, resolve


def test_email_reply_is_threaded_in_the_outbox(csr_app: CsrApp) -> None:
    ids = open_tickets(csr_app)
    csr1 = csr_app.api("csr1")
    assert csr1.post(f"/api/tickets/{ids['email']}/claim").status_code == 200
    reply = csr1.post(f"/api/tickets/{ids['email']}/reply", json={"text": "You are enrolled."})
    assert reply.status_code == 200 and reply.json()["status"] == "queued"
    with csr_app.sessions() as session:
        row = session.scalars(
            select(OutboundMessage).where(OutboundMessage.ticket_id == ids["email"])
        ).one()
    assert row.channel == "email" and row.to_address == "linh.tran@example.com"
    assert row.subject == "Re: AutoPay question"
    assert row.headers["In-Reply-To"] == "<abc123@mail.example.com>"
    assert row.headers["References"] == "<first@mail.example.com> <abc123@mail.example.com>"
    assert "Auto-Submitted" not in row.headers  # a person wrote it
    assert row.body.startswith("You are enrolled.\n\n-- \nValley Springs Water District")
    assert csr_app.twilio.message_requests() == []


def test_phone_ticket_reply_is_a_callback_task(csr_app: CsrApp) -> None:
    ids = open_tickets(csr_app)
    csr1 = csr_app.api("csr1")
    csr1.post(f"/api/tickets/{ids['voice']}/claim")
    reply = csr1.post(f"/api/tickets/{ids['voice']}/reply", json={"text": "Explain restoration"})
    assert reply.status_code == 200
    assert reply.json() | {"outbound_ids": []} == {
        "ticket": ids["voice"],
        "channel": "voice",
        "status": "callback_task",
        "outbound_ids": [],
        "callback_number": "+15305550103",
    }
    with csr_app.sessions() as session:
        kinds = session.scalars(
            select(ContactLog.kind).where(ContactLog.ticket_id == ids["voice"])
        ).all()
    assert "callback_task" in kinds


def test_forbidden_actions_are_403(csr_app: CsrApp) -> None:
    ids = open_tickets(csr_app)
    csr1, csr3, senior = csr_app.api("csr1"), csr_app.api("csr3"), csr_app.api("senior")
    # A CSR I may not claim, read or resolve a CSR II ticket.
    assert csr1.post(f"/api/tickets/{ids['dispute']}/claim").status_code == 403
    assert (
        csr1.post(
            f"/api/tickets/{ids['dispute']}/resolve", json={"disposition": "answered"}
        ).status_code
        == 403
    )
    # Only a Senior CSR or manager may reassign.
    csr1.post(f"/api/tickets/{ids['sms']}/claim")
    for client in (csr1, csr3):
        response = client.post(f"/api/tickets/{ids['sms']}/reassign", json={"username": "csr2"})
        assert response.status_code == 403
    assert csr_app.ticket(ids["sms"]).claimed_by_id == csr_app.user("csr1").id
    # Someone else's ticket: no release by a peer.
    csr2 = csr_app.api("csr2")
    assert csr2.post(f"/api/tickets/{ids['sms']}/release").status_code == 403
    moved = senior.post(f"/api/tickets/{ids['sms']}/reassign", json={"username": "csr2"})
    assert moved.status_code == 200 and moved.json()["claimed_by"] == "csr2"
    # Escalating downwards is a bad request; upwards works.
    assert (
        csr2.post(
            f"/api/tickets/{ids['sms']}/escalate", json={"level": "I", "reason": "x"}
        ).status_code
        == 422
    )
    up = csr2.post(f"/api/tickets/{ids['sms']}/escalate", json={"level": "III", "reason": "lien"})
    assert up.status_code == 200 and up.json()["level"] == "III"
    assert csr2.get(f"/api/tickets/{ids['sms']}").status_code == 403


def test_failed_token_requests_are_rate_limited(csr_app: CsrApp) -> None:
    client = csr_app.api()
    for _ in range(5):
        response = client.post("/api/auth/token", json={"username": "csr2", "password": "bad"})
        assert response.status_code == 401
    # Now even the right password is refused for a while.
    blocked = client.post("/api/auth/token", json={"username": "csr2", "password": "district-demo"})
    assert blocked.status_code == 429
    # Other users are not locked out by csr2's failures.
    assert (
        client.post(
            "/api/auth/token", json={"username": "csr1", "password": "district-demo"}
        ).status_code
        == 200
    )
