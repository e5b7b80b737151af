"""The CSR JSON API under ``/api/`` (shared/contract/interfaces.md).

Bearer-token authentication; 401 without a valid token, 403 for an action the
CSR's level or role may not take, 404 for a ticket that does not exist, 409 when
another CSR holds the ticket (or its state forbids the action), 422 for a bad
request body, 429 while logins are throttled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from accounts.db import SessionDep
from accounts.models import Ticket
from escalation import queue
from escalation.auth import (
    TOKEN_MAX_AGE,
    ApiUser,
    LoginFailed,
    LoginThrottled,
    authenticate,
    client_address,
    require_supervisor,
    signer_for,
)
from escalation.deps import CsrServicesDep
from escalation.http_errors import http_errors
from escalation.presenters import account_view, entry_json, ticket_json, transcript_entries
from escalation.replies import deliver_reply

router = APIRouter(prefix="/api", tags=["csr-api"])


class TokenRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class ReplyRequest(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=5000)]


class ResolveRequest(BaseModel):
    disposition: Annotated[str, Field(min_length=1, max_length=40)]
    note: Annotated[str, Field(max_length=5000)] = ""


class ReassignRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]


class EscalateRequest(BaseModel):
    level: Annotated[str, Field(min_length=1, max_length=10)]
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class NoteRequest(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=5000)]


@router.post("/auth/token")
def create_token(
    body: TokenRequest, request: Request, session: SessionDep, services: CsrServicesDep
) -> dict[str, Any]:
    """Exchange a CSR's username and password for a bearer token."""
    try:
        user = authenticate(
            session=session,
            username=body.username,
            password=body.password,
            address=client_address(request),
            now=services.clock.now(),
        )
    except LoginThrottled as error:
        session.commit()
        raise HTTPException(status_code=429, detail=str(error)) from error
    except LoginFailed as error:
        session.commit()
        raise HTTPException(
            status_code=401, detail=str(error), headers={"WWW-Authenticate": "Bearer"}
        ) from error
    session.commit()
    return {
        "token": signer_for(services).api_token(user),
        "token_type": "bearer",
        "expires_in": TOKEN_MAX_AGE,
        "username": user.username,
        "level": user.level,
    }


@router.get("/tickets")
def list_tickets(
    user: ApiUser,
    session: SessionDep,
    response: Response,
    status: Annotated[str | None, Query(max_length=10)] = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Tickets the caller's level may see (``X-Total-Count`` has the full count)."""
    with http_errors():
        tickets, total = queue.list_tickets(
            session=session, user=user, status=status, mine=mine, limit=limit, offset=offset
        )
    response.headers["X-Total-Count"] = str(total)
    return [ticket_json(ticket) for ticket in tickets]


@router.get("/tickets/{ticket_id}")
def get_ticket(
    ticket_id: int, user: ApiUser, session: SessionDep, services: CsrServicesDep
) -> dict[str, Any]:
    """One ticket with its transcript, notes and account summary."""
    with http_errors():
        ticket = queue.get_ticket(session=session, user=user, ticket_id=ticket_id)
    data = ticket_json(ticket)
    data["transcript"] = [
        entry_json(entry) for entry in transcript_entries(session=session, ticket=ticket)
    ]
    data["notes"] = [
        entry_json(note) for note in queue.notes_for(session=session, ticket_id=ticket.id)
    ]
    data["callback_number"] = ticket.callback_number or None
    data["attachments"] = ticket.attachments
    if ticket.account is not None:
        today = services.clock.now().astimezone(services.district.tz).date()
        data["account_summary"] = account_view(
            session=session, account=ticket.account, today=today
        ).as_json()
    return data


def _transition(path: str, action: Callable[..., Ticket], summary: str) -> None:
    """An endpoint that moves the ticket (claim, release, waiting) and returns it."""

    def handler(
        ticket_id: int, user: ApiUser, session: SessionDep, services: CsrServicesDep
    ) -> dict[str, Any]:
        with http_errors():
            ticket = action(
                session=session, user=user, ticket_id=ticket_id, now=services.clock.now()
            )
        session.commit()
        return ticket_json(ticket)

    router.post(f"/tickets/{{ticket_id}}/{path}", name=path, description=summary)(handler)


_transition("claim", queue.claim, "Take the ticket; 409 when another CSR holds it.")
_transition("release", queue.release, "Put the ticket back in the queue.")
_transition("waiting", queue.set_waiting, "Mark the ticket as waiting on the customer.")


@router.post("/tickets/{ticket_id}/reply")
def reply(
    ticket_id: int, body: ReplyRequest, user: ApiUser, session: SessionDep, services: CsrServicesDep
) -> dict[str, Any]:
    """Answer the customer on the ticket's channel (the caller must hold the ticket)."""
    with http_errors():
        ticket = queue.held_ticket(session=session, user=user, ticket_id=ticket_id)
        result = deliver_reply(
            session=session,
            ticket=ticket,
            user=user,
            text=body.text,
            now=services.clock.now(),
            district=services.district,
            sms=services.sms_sender,
        )
    session.commit()
    return {
        "ticket": ticket_id,
        "channel": result.channel,
        "status": result.status,
        "outbound_ids": result.outbound_ids,
        "callback_number": result.callback_number or None,
    }


@router.post("/tickets/{ticket_id}/notes")
def add_note(
    ticket_id: int, body: NoteRequest, user: ApiUser, session: SessionDep, services: CsrServicesDep
) -> dict[str, Any]:
    """An internal note."""
    with http_errors():
        entry = queue.add_note(
            session=session,
            user=user,
            ticket_id=ticket_id,
            text=body.text,
            now=services.clock.now(),
        )
    session.commit()
    return entry_json(entry)


@router.post("/tickets/{ticket_id}/escalate")
def escalate(
    ticket_id: int,
    body: EscalateRequest,
    user: ApiUser,
    session: SessionDep,
    services: CsrServicesDep,
) -> dict[str, Any]:
    """Send the ticket to a higher level."""
    with http_errors():
        ticket = queue.escalate(
            session=session,
            user=user,
            ticket_id=ticket_id,
            to_level=body.level,
            reason=body.reason,
            now=services.clock.now(),
            calendar=services.calendar,
        )
    session.commit()
    return ticket_json(ticket)


@router.post("/tickets/{ticket_id}/reassign")
def reassign(
    ticket_id: int,
    body: ReassignRequest,
    user: ApiUser,
    session: SessionDep,
    services: CsrServicesDep,
) -> dict[str, Any]:
    """Give the ticket to another CSR (Senior CSR or manager only)."""
    require_supervisor(user)
    with http_errors():
        ticket = queue.reassign(
            session=session,
            user=user,
            ticket_id=ticket_id,
            to_username=body.username,
            now=services.clock.now(),
        )
    session.commit()
    return ticket_json(ticket)


@router.post("/tickets/{ticket_id}/resolve")
def resolve(
    ticket_id: int,
    body: ResolveRequest,
    user: ApiUser,
    session: SessionDep,
    services: CsrServicesDep,
) -> dict[str, Any]:
    """Resolve with a disposition code; the bot resumes the conversation."""
    with http_errors():
        ticket = queue.resolve(
            session=session,
            user=user,
            ticket_id=ticket_id,
            disposition=body.disposition,
            note=body.note,
            now=services.clock.now(),
        )
    session.commit()
    return ticket_json(ticket)
