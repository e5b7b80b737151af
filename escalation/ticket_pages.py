"""The ticket page: transcript, account summary, tier, notes, and a form for every action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.models import CsrUser
from accounts.services.tickets import OPEN_STATUSES
from escalation import queue
from escalation.auth import CsrAction, CsrPage
from escalation.deps import CsrServices, CsrServicesDep
from escalation.http_errors import http_errors
from escalation.pages import HtmlErrorsRoute, render
from escalation.presenters import account_view, transcript_entries
from escalation.replies import deliver_reply
from escalation.routing import DISPOSITIONS, LEVELS, can_see, higher_levels, is_supervisor

router = APIRouter(route_class=HtmlErrorsRoute)

#: Result messages shown after an action (keys only travel in URLs: nothing reflected).
MESSAGES = {
    "claimed": "You have the ticket.",
    "released": "The ticket is back in the queue.",
    "replied": "Reply sent.",
    "reply_queued": "Email reply queued in the outbox.",
    "reply_blocked": "Not sent: the customer opted out of text messages.",
    "callback": "Callback task recorded: call the customer.",
    "noted": "Note added.",
    "waiting": "Waiting on the customer.",
    "resolved": "Resolved. The assistant resumes the conversation.",
    "escalated": "Escalated.",
    "reassigned": "Reassigned.",
}


def _ticket_values(
    session: Session, services: CsrServices, user: CsrUser, ticket_id: int
) -> dict[str, Any]:
    with http_errors():
        ticket = queue.get_ticket(session=session, user=user, ticket_id=ticket_id)
    today = services.clock.now().astimezone(services.district.tz).date()
    supervisor = is_supervisor(user.level)
    # Only a supervisor gets the reassign list, so only a supervisor pays for it.
    staff = (
        session.scalars(
            select(CsrUser).where(CsrUser.active.is_(True)).order_by(CsrUser.username)
        ).all()
        if supervisor
        else []
    )
    transcript = transcript_entries(session=session, ticket=ticket)
    subjects = [
        str(entry.meta.get("subject"))
        for entry in transcript
        if entry.channel == "email" and entry.direction == "inbound" and entry.meta.get("subject")
    ]
    return {
        "ticket": ticket,
        "user": user,
        "transcript": transcript,
        "subject": subjects[-1] if subjects else "",
        "notes": queue.notes_for(session=session, ticket_id=ticket.id),
        "account": (
            account_view(session=session, account=ticket.account, today=today)
            if ticket.account
            else None
        ),
        "holder": ticket.claimed_by.username if ticket.claimed_by else None,
        "mine": ticket.claimed_by_id == user.id,
        "open": ticket.status in OPEN_STATUSES,
        "supervisor": supervisor,
        "dispositions": DISPOSITIONS,
        "higher_levels": higher_levels(ticket.level),
        "staff": [u for u in staff if can_see(u.level, ticket.level)],
        "levels": LEVELS,
    }


@router.get("/tickets/{ticket_id}")
def ticket_page(
    ticket_id: int,
    request: Request,
    csr: CsrPage,
    session: SessionDep,
    services: CsrServicesDep,
    msg: str = "",
) -> Response:
    """Transcript, account summary, tier, notes, reply and resolve."""
    values = _ticket_values(session, services, csr.user, ticket_id)
    values.update(csrf_token=csr.csrf_token, message=MESSAGES.get(msg, ""))
    return render(request, services, "ticket.html", values)


@router.get("/tickets/{ticket_id}/transcript")
def ticket_transcript(
    ticket_id: int, request: Request, csr: CsrPage, session: SessionDep, services: CsrServicesDep
) -> Response:
    """The transcript fragment (polled for live updates)."""
    # Polled every few seconds: fetch the transcript only, not the whole ticket page.
    with http_errors():
        ticket = queue.get_ticket(session=session, user=csr.user, ticket_id=ticket_id)
    transcript = transcript_entries(session=session, ticket=ticket)
    return render(request, services, "_transcript.html", {"transcript": transcript})


def _done(ticket_id: int, msg: str) -> RedirectResponse:
    return RedirectResponse(f"/csr/tickets/{ticket_id}?msg={msg}", status_code=303)


def _transition(path: str, action: Callable[..., Any], message: str) -> None:
    """A form button that moves the ticket (claim, release, waiting) and shows the result."""

    def handler(
        ticket_id: int, user: CsrAction, session: SessionDep, services: CsrServicesDep
    ) -> Response:
        with http_errors():
            action(session=session, user=user, ticket_id=ticket_id, now=services.clock.now())
        session.commit()
        return _done(ticket_id, message)

    router.post(f"/tickets/{{ticket_id}}/{path}", name=f"{path}_ticket")(handler)


_transition("claim", queue.claim, "claimed")
_transition("release", queue.release, "released")
_transition("waiting", queue.set_waiting, "waiting")


@router.post("/tickets/{ticket_id}/reply")
def reply_ticket(
    ticket_id: int,
    user: CsrAction,
    session: SessionDep,
    services: CsrServicesDep,
    text: str = Form(..., max_length=5000),
) -> Response:
    now = services.clock.now()
    with http_errors():
        ticket = queue.held_ticket(session=session, user=user, ticket_id=ticket_id)
        result = deliver_reply(
            session=session,
            ticket=ticket,
            user=user,
            text=text,
            now=now,
            district=services.district,
            sms=services.sms_sender,
        )
    session.commit()
    message = {
        "callback_task": "callback",
        "blocked": "reply_blocked",
    }.get(result.status, "reply_queued" if result.channel == "email" else "replied")
    return _done(ticket_id, message)


@router.post("/tickets/{ticket_id}/note")
def note_ticket(
    ticket_id: int,
    user: CsrAction,
    session: SessionDep,
    services: CsrServicesDep,
    text: str = Form(..., max_length=5000),
) -> Response:
    now = services.clock.now()
    with http_errors():
        queue.add_note(session=session, user=user, ticket_id=ticket_id, text=text, now=now)
    session.commit()
    return _done(ticket_id, "noted")


@router.post("/tickets/{ticket_id}/resolve")
def resolve_ticket(
    ticket_id: int,
    user: CsrAction,
    session: SessionDep,
    services: CsrServicesDep,
    disposition: str = Form(..., max_length=40),
    note: str = Form("", max_length=5000),
) -> Response:
    now = services.clock.now()
    with http_errors():
        queue.resolve(
            session=session,
            user=user,
            ticket_id=ticket_id,
            disposition=disposition,
            note=note,
            now=now,
        )
    session.commit()
    return _done(ticket_id, "resolved")


@router.post("/tickets/{ticket_id}/escalate")
def escalate_ticket(
    ticket_id: int,
    user: CsrAction,
    session: SessionDep,
    services: CsrServicesDep,
    level: str = Form(..., max_length=10),
    reason: str = Form(..., max_length=200),
) -> Response:
    now = services.clock.now()
    with http_errors():
        queue.escalate(
            session=session,
            user=user,
            ticket_id=ticket_id,
            to_level=level,
            reason=reason,
            now=now,
            calendar=services.calendar,
        )
    session.commit()
    # The CSR may no longer see the ticket at its new level: back to the queue.
    if not can_see(user.level, level):
        return RedirectResponse("/csr/?msg=escalated", status_code=303)
    return _done(ticket_id, "escalated")


@router.post("/tickets/{ticket_id}/reassign")
def reassign_ticket(
    ticket_id: int,
    user: CsrAction,
    session: SessionDep,
    services: CsrServicesDep,
    username: str = Form(..., max_length=64),
) -> Response:
    now = services.clock.now()
    with http_errors():
        queue.reassign(
            session=session, user=user, ticket_id=ticket_id, to_username=username, now=now
        )
    session.commit()
    return _done(ticket_id, "reassigned")
