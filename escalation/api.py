"""The CSR JSON API under ``/api/`` (docs/contract/interfaces.md).

Bearer-token authentication; 401 without a valid token, 403 for an action the
CSR's level or role may not take, 404 for a ticket that does not exist, 409 when
another CSR holds the ticket (or its state forbids the action), 422 for a bad
request body, 429 while logins are throttled. Each entry of
:data:`escalation.actions.ACTIONS` is a ``POST /api/tickets/{id}/<name>`` here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from accounts.db import SessionDep
from escalation import queue
from escalation.actions import ACTIONS, Action, perform
from escalation.auth import (
    TOKEN_MAX_AGE,
    ApiUser,
    LoginFailed,
    LoginThrottled,
    authenticate,
    client_address,
    signer_for,
)
from escalation.deps import CsrServicesDep
from escalation.http_errors import http_errors
from escalation.presenters import account_view, entry_json, ticket_json, transcript_entries

router = APIRouter(prefix="/api", tags=["csr-api"])


class TokenRequest(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


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


def _endpoint(action: Action[Any]) -> None:
    """The JSON endpoint of ``action``: do it, answer with what it did."""

    def handler(
        ticket_id: int,
        user: ApiUser,
        session: SessionDep,
        services: CsrServicesDep,
        fields: BaseModel,
    ) -> dict[str, Any]:
        return perform(
            action,
            session=session,
            services=services,
            user=user,
            ticket_id=ticket_id,
            fields=fields,
        ).answer()

    handler.__annotations__["fields"] = action.fields_param(form=False)
    router.post(
        f"/tickets/{{ticket_id}}/{action.api_path}", name=action.name, description=action.help
    )(handler)


for _action in ACTIONS:
    _endpoint(_action)
