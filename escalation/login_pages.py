"""The CSR app's login and logout: a rate-limited password check that starts a session."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from accounts.db import SessionDep
from escalation.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    CsrAction,
    LoginFailed,
    LoginThrottled,
    authenticate,
    client_address,
    signer_for,
)
from escalation.deps import CsrServices, CsrServicesDep
from escalation.pages import HtmlErrorsRoute, https, render

router = APIRouter(route_class=HtmlErrorsRoute)


def _login_page(
    request: Request, services: CsrServices, *, error: str = "", status_code: int = 200
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    response = render(
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
        secure=https(services),
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
        secure=https(services),
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
