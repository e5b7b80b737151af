"""The table of CSR actions: one entry is a form post and a JSON endpoint (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import CsrUser
from escalation.actions import ACTIONS, MESSAGES, Action, Outcome, perform
from tests.escalation.conftest import CsrApp, new_ticket

BY_NAME = {action.name: action for action in ACTIONS}


def csr(session: Session, username: str) -> CsrUser:
    user = session.scalar(select(CsrUser).where(CsrUser.username == username))
    assert user is not None
    return user


def act(
    app: CsrApp, session: Session, name: str, by: str, ticket_id: int, **fields: str
) -> Outcome:
    action: Action[Any] = BY_NAME[name]
    return perform(
        action,
        session=session,
        services=app.services,
        user=csr(session, by),
        ticket_id=ticket_id,
        fields=action.fields(**fields),
    )


def test_every_action_is_a_form_post_and_an_api_endpoint(csr_app: CsrApp) -> None:
    page, api = csr_app.browser(), csr_app.api()
    for action in ACTIONS:
        posted = page.post(f"/csr/tickets/1/{action.name}")
        assert (posted.status_code, posted.headers.get("location")) == (303, "/csr/login")
        assert api.post(f"/api/tickets/1/{action.api_path}").status_code == 401
    # What is not in the table is not routed.
    assert page.post("/csr/tickets/1/bogus").status_code == 404
    assert api.post("/api/tickets/1/bogus").status_code == 404
    assert len(BY_NAME) == len(ACTIONS)


def test_outcomes_carry_the_flash_message_and_the_api_answer(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        now = csr_app.clock.now()
        ticket_id = new_ticket(
            session,
            csr_app.calendar,
            now,
            channel="voice",
            address="+15305550103",
            account_number="1001139",
            external_id="CA-actions",
            callback_number="+15305550103",
        ).id
        claimed = act(csr_app, session, "claim", "csr1", ticket_id)
        assert claimed.message == "claimed"
        assert claimed.answer()["claimed_by"] == "csr1"
        replied = act(csr_app, session, "reply", "csr1", ticket_id, text="Call about the bill")
        assert replied.message == "callback"
        assert replied.answer()["callback_number"] == "+15305550103"
        noted = act(csr_app, session, "note", "csr1", ticket_id, text="left a voicemail")
        assert (noted.message, noted.answer()["kind"], noted.ticket.id) == (
            "noted",
            "note",
            ticket_id,
        )
        escalated = act(csr_app, session, "escalate", "csr1", ticket_id, level="II", reason="lien")
        assert (escalated.message, escalated.ticket.level) == ("escalated", "II")
    assert {claimed.message, replied.message, noted.message, escalated.message} <= set(MESSAGES)


def test_who_may_take_an_action_is_checked_before_the_queue(csr_app: CsrApp) -> None:
    assert [action.name for action in ACTIONS if action.supervisors_only] == ["reassign"]
    with csr_app.sessions() as session:
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
        act(csr_app, session, "claim", "csr1", ticket_id)
        with pytest.raises(HTTPException) as refused:
            act(csr_app, session, "reassign", "csr1", ticket_id, username="csr2")
        assert (refused.value.status_code, refused.value.detail) == (
            403,
            "Senior CSR or manager only",
        )
        moved = act(csr_app, session, "reassign", "senior", ticket_id, username="csr2")
        assert (moved.message, moved.answer()["claimed_by"]) == ("reassigned", "csr2")


def test_queue_errors_are_http_errors(csr_app: CsrApp) -> None:
    with csr_app.sessions() as session:
        with pytest.raises(HTTPException) as missing:
            act(csr_app, session, "claim", "csr1", 987654)
        assert missing.value.status_code == 404
        ticket_id = new_ticket(session, csr_app.calendar, csr_app.clock.now()).id
        with pytest.raises(HTTPException) as unclaimed:
            act(csr_app, session, "reply", "csr1", ticket_id, text="hello")
        assert unclaimed.value.status_code == 409
