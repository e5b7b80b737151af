"""The ticket page: transcript, account summary, tier, notes, and a form for every action.

Each entry of :data:`escalation.actions.ACTIONS` is a form post here,
``/csr/tickets/{id}/<name>``, that redirects back to the ticket with the action's
flash message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.models import CsrUser
from accounts.services.tickets import OPEN_STATUSES
from escalation import queue
from escalation.actions import ACTIONS, MESSAGES, Action, perform
from escalation.auth import CsrAction, CsrPage
from escalation.deps import CsrServices, CsrServicesDep
from escalation.http_errors import http_errors
from escalation.pages import HtmlErrorsRoute, render
from escalation.presenters import account_view, transcript_entries
from escalation.routing import DISPOSITIONS, LEVELS, can_see, higher_levels, is_supervisor

router = APIRouter(route_class=HtmlErrorsRoute)


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


def _form_post(action: Action[Any]) -> None:
    """The form post of ``action``: do it, then show the ticket with the action's message."""

    def handler(
        ticket_id: int,
        user: CsrAction,
        session: SessionDep,
        services: CsrServicesDep,
        fields: BaseModel,
    ) -> Response:
        outcome = perform(
            action,
            session=session,
            services=services,
            user=user,
            ticket_id=ticket_id,
            fields=fields,
        )
        # An escalated ticket may be above the CSR's level now: back to the queue.
        if not can_see(user.level, outcome.ticket.level):
            return RedirectResponse(f"/csr/?msg={outcome.message}", status_code=303)
        return RedirectResponse(f"/csr/tickets/{ticket_id}?msg={outcome.message}", status_code=303)

    handler.__annotations__["fields"] = action.fields_param(form=True)
    router.post(f"/tickets/{{ticket_id}}/{action.name}", name=f"{action.name}_ticket")(handler)


for _action in ACTIONS:
    _form_post(_action)
