"""The CSR queue page: what the CSR's level may take, its live rows, and "take next"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.models import CsrUser
from accounts.services.tickets import OPEN_STATUSES
from escalation import queue
from escalation.actions import MESSAGES
from escalation.auth import CsrAction, CsrPage
from escalation.deps import CsrServicesDep
from escalation.http_errors import http_errors
from escalation.pages import HtmlErrorsRoute, render
from escalation.routing import is_supervisor

router = APIRouter(route_class=HtmlErrorsRoute)

PAGE_SIZE = 25
VIEW_NAMES = {"available": "Available", "mine": "Mine", "open": "All open", "resolved": "Resolved"}
_VIEWS = {
    "available": ("new",),
    "mine": ("claimed", "waiting"),
    "open": OPEN_STATUSES,
    "resolved": ("resolved",),
}


def _queue_values(session: Session, user: CsrUser, view: str, page: int) -> dict[str, Any]:
    view = view if view in _VIEWS else "available"
    page = max(page, 1)
    tickets, total = queue.list_tickets(
        session=session,
        user=user,
        status=_VIEWS[view],
        mine=view == "mine",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return {
        "tickets": tickets,
        "total": total,
        "view": view,
        "views": list(_VIEWS),
        "page": page,
        "pages": pages,
        "user": user,
    }


@router.get("/")
def queue_page(
    request: Request,
    csr: CsrPage,
    session: SessionDep,
    services: CsrServicesDep,
    view: str = "available",
    page: int = 1,
    msg: str = "",
) -> Response:
    """The queue: what the CSR's level may take, by priority and due time."""
    values = _queue_values(session, csr.user, view, page)
    values.update(
        view_names=VIEW_NAMES,
        csrf_token=csr.csrf_token,
        message=MESSAGES.get(msg, ""),
        supervisor=is_supervisor(csr.user.level),
    )
    return render(request, services, "queue.html", values)


@router.get("/queue/rows")
def queue_rows(
    request: Request,
    csr: CsrPage,
    session: SessionDep,
    services: CsrServicesDep,
    view: str = "available",
    page: int = 1,
) -> Response:
    """The queue table's rows (polled by the page for live updates)."""
    values = _queue_values(session, csr.user, view, page)
    response = render(request, services, "_queue_rows.html", values)
    response.headers["X-Queue-Total"] = str(values["total"])
    return response


@router.post("/next")
def take_next(user: CsrAction, session: SessionDep, services: CsrServicesDep) -> Response:
    """Claim the most urgent ticket the CSR may take."""
    with http_errors():
        ticket = queue.claim_next(session=session, user=user, now=services.clock.now())
    session.commit()
    if ticket is None:
        return RedirectResponse("/csr/?view=available", status_code=303)
    return RedirectResponse(f"/csr/tickets/{ticket.id}?msg=claimed", status_code=303)
