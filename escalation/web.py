"""The CSR web app at ``/csr/``: server-rendered pages with a little plain JavaScript.

Every page escapes what it shows (Jinja2 autoescape; customer-written text is
never marked safe), every form carries a CSRF token, every action checks the
CSR's level and role in :mod:`escalation.queue`, and responses carry a strict
Content-Security-Policy (scripts and styles from this app only).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.models import CsrUser
from accounts.services.tickets import OPEN_STATUSES
from escalation import queue
from escalation.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    CsrAction,
    CsrPage,
    CsrSession,
    LoginFailed,
    LoginThrottled,
    authenticate,
    client_address,
    require_supervisor,
    signer_for,
)
from escalation.deps import CsrServices, CsrServicesDep, csr_services
from escalation.http_errors import http_errors
from escalation.presenters import (
    account_view,
    channel_label,
    intent_label,
    local_day,
    local_time,
    transcript_entries,
)
from escalation.replies import deliver_reply
from escalation.reports import SupervisorReport, supervisor_report
from escalation.routing import (
    DISPOSITIONS,
    LEVELS,
    PRIORITY_NAMES,
    can_see,
    higher_levels,
    is_supervisor,
)


class _HtmlErrorsRoute(APIRoute):
    """Errors of CSR pages as HTML pages (and the login redirect), not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as error:
                if error.status_code == 303:
                    return RedirectResponse("/csr/login", status_code=303)
                services = csr_services(request)
                return _render(
                    request,
                    services,
                    "error.html",
                    {"status": error.status_code, "detail": str(error.detail)},
                    status_code=error.status_code,
                )

        return route_handler


router = APIRouter(prefix="/csr", include_in_schema=False, route_class=_HtmlErrorsRoute)

_HERE = Path(__file__).parent
_STATIC = {
    "csr.js": ("application/javascript", _HERE / "static" / "csr.js"),
    "csr.css": ("text/css", _HERE / "static" / "csr.css"),
}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_SIZE = 25
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


def _templates() -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


templates = _templates()


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _https(services: CsrServices) -> bool:
    return services.settings.public_base_url.startswith("https://")


def _render(
    request: Request,
    services: CsrServices,
    name: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    tz = services.district.tz
    now = services.clock.now()
    base = {
        "district": services.district,
        "priority_names": PRIORITY_NAMES,
        "when": lambda value: local_time(value, tz) if value else "",
        "day": lambda value: local_day(value, tz) if value else "",
        "intent_label": intent_label,
        "channel_label": channel_label,
        "now": now,
        "tz_name": now.astimezone(tz).tzname(),
    }
    response = templates.TemplateResponse(
        request, name, {**base, **values}, status_code=status_code
    )
    return _secure(response)


# -- static ---------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The app's own script and stylesheet (vendored: the machine has no CDN)."""
    if name not in _STATIC:
        raise HTTPException(status_code=404)
    media_type, path = _STATIC[name]
    response = Response(path.read_text(encoding="utf-8"), media_type=media_type)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- login ----------------------------------------------------------------------------


def _login_page(
    request: Request, services: CsrServices, *, error: str = "", status_code: int = 200
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    response = _render(
        request,
        services,
        "login.html",
        {"csrf_token": signer_for(services).csrf_token(f"login:{nonce}"), "error": error},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_https(services),
        path="/csr",
    )
    return response


@router.get("/login")
def login_form(request: Request, services: CsrServicesDep) -> Response:
    """The login page."""
    return _login_page(request, services)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    services: CsrServicesDep,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    csrf_token: str = Form(""),
) -> Response:
    """Check the password (rate-limited) and start a session."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not signer_for(services).csrf_ok(f"login:{nonce}", csrf_token):
        return _login_page(request, services, error="The form expired; try again.", status_code=403)
    try:
        user = authenticate(
            session=session,
            username=username,
            password=password,
            address=client_address(request),
            now=services.clock.now(),
        )
    except LoginThrottled:
        session.commit()
        return _login_page(
            request,
            services,
            error="Too many failed logins. Wait 15 minutes and try again.",
            status_code=429,
        )
    except LoginFailed:
        session.commit()
        return _login_page(request, services, error="Wrong username or password.", status_code=401)
    session.commit()
    response = RedirectResponse("/csr/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signer_for(services).session_cookie(user),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=_https(services),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/csr")
    return response


@router.post("/logout")
def logout(user: CsrAction) -> Response:
    """End the session."""
    response = RedirectResponse("/csr/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- queue ----------------------------------------------------------------------------

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
    return _render(request, services, "queue.html", values)


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
    response = _render(request, services, "_queue_rows.html", values)
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


# -- ticket ---------------------------------------------------------------------------


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
    return _render(request, services, "ticket.html", values)


@router.get("/tickets/{ticket_id}/transcript")
def ticket_transcript(
    ticket_id: int, request: Request, csr: CsrPage, session: SessionDep, services: CsrServicesDep
) -> Response:
    """The transcript fragment (polled for live updates)."""
    # Polled every few seconds: fetch the transcript only, not the whole ticket page.
    with http_errors():
        ticket = queue.get_ticket(session=session, user=csr.user, ticket_id=ticket_id)
    transcript = transcript_entries(session=session, ticket=ticket)
    return _render(request, services, "_transcript.html", {"transcript": transcript})


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


# -- supervisor -------------------------------------------------------------------------


def supervisor_session(csr: CsrPage) -> CsrSession:
    """FastAPI dependency: a logged-in Senior CSR or manager; 403 for anyone else."""
    require_supervisor(csr.user)
    return csr


SupervisorPage = Annotated[CsrSession, Depends(supervisor_session)]


def _report_days(days: int) -> int:
    return min(max(days, 1), 90)


def _report(session: Session, services: CsrServices, days: int) -> SupervisorReport:
    return supervisor_report(
        session=session, now=services.clock.now(), tz=services.district.tz, days=days
    )


@router.get("/supervisor")
def supervisor_page(
    request: Request,
    csr: SupervisorPage,
    session: SessionDep,
    services: CsrServicesDep,
    days: int = 7,
) -> Response:
    """Queue depth by level, past due, containment, reasons, volume by channel and hour."""
    days = _report_days(days)
    report = _report(session, services, days)
    return _render(
        request,
        services,
        "supervisor.html",
        {
            "report": report,
            "user": csr.user,
            "days": days,
            "csrf_token": csr.csrf_token,
            "supervisor": True,
            "open_statuses": OPEN_STATUSES,
        },
    )


@router.get("/supervisor.csv")
def supervisor_csv(
    csr: SupervisorPage, session: SessionDep, services: CsrServicesDep, days: int = 7
) -> Response:
    """The supervisor figures as CSV."""
    report = _report(session, services, _report_days(days))
    stamp = services.clock.now().astimezone(services.district.tz).strftime("%Y%m%d-%H%M")
    return PlainTextResponse(
        report.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="csr-report-{stamp}.csv"'},
    )


@router.get("", include_in_schema=False)
def csr_root() -> Response:
    """``/csr`` without the slash."""
    return RedirectResponse("/csr/", status_code=307)
