"""The ticket page's forms over real HTTP: CSRF on every action, 403 and 409 pages, the log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import ContactLog
from tests.escalation.conftest import CsrApp, new_ticket

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
