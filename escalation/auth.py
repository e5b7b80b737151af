"""CSR authentication: passwords, sessions, API tokens, CSRF tokens and role checks.

* Passwords are argon2id hashes (:mod:`accounts.passwords`).
* A browser session is a signed, timestamped cookie (``HttpOnly``, ``SameSite=Lax``,
  ``Secure`` behind https) naming the CSR and a fingerprint of their password
  hash, so changing a password or deactivating a user ends every session.
* API clients get a bearer token of the same construction with another salt.
* Every form carries a CSRF token bound to the session; the login form, which has
  no session yet, binds its token to a random pre-login cookie.
* FastAPI dependencies name who is asking: ``ApiUser`` (bearer token, 401 without
  one), ``CsrPage`` (session cookie; a redirect to the login page without one) and
  ``CsrAction`` (a ``CsrPage`` posting a form with its CSRF token; 403 without it).
* Failed logins are counted in the database (shared by every worker): too many
  for one username or from one address within the window and logins are refused
  for a while, right password or not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.models import CsrUser, LoginAttempt
from accounts.passwords import hash_password, verify_password
from escalation.deps import CsrServices, csr_services
from escalation.routing import is_supervisor

SESSION_COOKIE = "csr_session"
LOGIN_COOKIE = "csr_login"
SESSION_MAX_AGE = 12 * 3600
TOKEN_MAX_AGE = 8 * 3600
#: Failed logins allowed per username / per client address within the window.
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)


# Verifying against a real hash when the username is unknown keeps the response
# time the same, so timing does not reveal which usernames exist.
@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A login or token problem (a staff-side error)."""


class LoginFailed(AuthError):
    """Wrong username or password (deliberately not saying which)."""


class LoginThrottled(AuthError):
    """Too many failed logins recently; try again later."""


def _fingerprint(user: CsrUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """Signs session cookies, API tokens and CSRF tokens with the app's secret key."""

    secret: str

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=salt)

    def session_cookie(self, user: CsrUser) -> str:
        """A new session for ``user`` (each login gets its own session id)."""
        payload = {"u": user.id, "f": _fingerprint(user), "s": secrets.token_urlsafe(12)}
        return self._serializer("csr-session").dumps(payload)

    def api_token(self, user: CsrUser) -> str:
        """A bearer token for ``user``."""
        payload = {"u": user.id, "f": _fingerprint(user), "s": secrets.token_urlsafe(12)}
        return self._serializer("csr-api-token").dumps(payload)

    def read(self, value: str, *, kind: str, max_age: int) -> dict[str, Any] | None:
        """The payload of a session cookie (``kind="session"``) or token, or None."""
        salt = "csr-session" if kind == "session" else "csr-api-token"
        try:
            data = self._serializer(salt).loads(value, max_age=max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None

    def csrf_token(self, binding: str) -> str:
        """The CSRF token for a session id (or a pre-login nonce)."""
        return hmac.new(self.secret.encode(), f"csrf:{binding}".encode(), "sha256").hexdigest()

    def csrf_ok(self, binding: str, token: str) -> bool:
        """Constant-time check of a submitted CSRF token."""
        return bool(binding) and hmac.compare_digest(self.csrf_token(binding), token or "")


def signer_for(services: CsrServices) -> Signer:
    """The signer built from the app's secret key."""
    return Signer(services.settings.secret_key.get_secret_value())


def _user_from_payload(session: Session, payload: dict[str, Any] | None) -> CsrUser | None:
    if not payload or not isinstance(payload.get("u"), int):
        return None
    user = session.get(CsrUser, payload["u"])
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(_fingerprint(user), str(payload.get("f", ""))):
        return None
    return user


def _failures(session: Session, column: Any, value: str, since: datetime) -> int:
    statement = select(func.count(LoginAttempt.id)).where(
        column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    return int(session.scalar(statement) or 0)


def authenticate(
    *, session: Session, username: str, password: str, address: str, now: datetime
) -> CsrUser:
    """Check a CSR's credentials, counting failures.

    Args:
        session: Database session (the attempt is recorded; the caller commits).
        username: As typed; compared case-insensitively.
        password: As typed.
        address: The client's IP address (for the per-address limit).
        now: The current instant.

    Returns:
        The CSR.

    Raises:
        LoginThrottled: Too many recent failures for this username or address.
        LoginFailed: Unknown user, inactive user or wrong password.
    """
    name = username.strip().lower()[:64]
    address = address[:64]
    since = now - FAILURE_WINDOW
    if (
        _failures(session, LoginAttempt.username, name, since) >= MAX_FAILURES_PER_USER
        or _failures(session, LoginAttempt.address, address, since) >= MAX_FAILURES_PER_ADDRESS
    ):
        session.add(LoginAttempt(username=name, address=address, success=False, at=now))
        session.flush()
        raise LoginThrottled("too many failed logins; wait 15 minutes")
    user = session.scalar(select(CsrUser).where(func.lower(CsrUser.username) == name))
    valid = verify_password(user.password_hash if user else _dummy_hash(), password)
    ok = bool(user and user.active and valid)
    session.add(LoginAttempt(username=name, address=address, success=ok, at=now))
    if ok:
        # Old attempts are only needed inside the window.
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - 4 * FAILURE_WINDOW))
    session.flush()
    if not ok or user is None:
        raise LoginFailed("wrong username or password")
    return user


def client_address(request: Request) -> str:
    """The peer address (the gateway runs behind no proxy that we trust for this)."""
    return request.client.host if request.client else ""


def session_user(request: Request, session: Session) -> tuple[CsrUser, str] | None:
    """The CSR of the request's session cookie and the session id, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    signer = signer_for(csr_services(request))
    payload = signer.read(cookie, kind="session", max_age=SESSION_MAX_AGE)
    user = _user_from_payload(session, payload)
    if user is None or payload is None:
        return None
    return user, str(payload.get("s", ""))


@dataclass(frozen=True)
class CsrSession:
    """A CSR logged in to the app, and the CSRF token their forms carry.

    Attributes:
        user: The CSR.
        sid: The session id (what the CSRF token is bound to).
        csrf_token: The token every form on the CSR's pages carries.
    """

    user: CsrUser
    sid: str
    csrf_token: str


def csr_page(request: Request, session: SessionDep) -> CsrSession:
    """FastAPI dependency: the CSR of the session cookie; to the login page without one."""
    found = session_user(request, session)
    if found is None:
        # A 303 that the CSR pages' route class turns into the redirect.
        raise HTTPException(status_code=303, headers={"Location": "/csr/login"})
    user, sid = found
    return CsrSession(
        user=user, sid=sid, csrf_token=signer_for(csr_services(request)).csrf_token(sid)
    )


CsrPage = Annotated[CsrSession, Depends(csr_page)]


def csr_action(request: Request, page: CsrPage, csrf_token: Annotated[str, Form()] = "") -> CsrUser:
    """FastAPI dependency: the CSR posting a form; 403 unless it carries their CSRF token."""
    if not signer_for(csr_services(request)).csrf_ok(page.sid, csrf_token):
        raise HTTPException(status_code=403, detail="invalid CSRF token; reload the page")
    return page.user


CsrAction = Annotated[CsrUser, Depends(csr_action)]


def api_user(request: Request, session: SessionDep) -> CsrUser:
    """FastAPI dependency: the CSR of the bearer token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status_code=401,
            detail="missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    signer = signer_for(csr_services(request))
    payload = signer.read(token.strip(), kind="token", max_age=TOKEN_MAX_AGE)
    user = _user_from_payload(session, payload)
    if user is None:
        raise HTTPException(
            status_code=401,
            detail="invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


ApiUser = Annotated[CsrUser, Depends(api_user)]


def require_supervisor(user: CsrUser) -> None:
    """Raise 403 unless the CSR is a Senior CSR or a manager."""
    if not is_supervisor(user.level):
        raise HTTPException(status_code=403, detail="Senior CSR or manager only")
