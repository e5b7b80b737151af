"""Passwords, signed sessions and tokens, CSRF tokens and login throttling (both databases).

Also the dependencies of the CSR pages: a login for every page, a CSRF token for every form.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import CsrUser
from accounts.passwords import hash_password
from escalation.auth import (
    FAILURE_WINDOW,
    MAX_FAILURES_PER_ADDRESS,
    LoginFailed,
    LoginThrottled,
    Signer,
    _user_from_payload,
    authenticate,
)
from tests.escalation.conftest import CsrApp


def user(session: Session, username: str) -> CsrUser:
    found = session.scalar(select(CsrUser).where(CsrUser.username == username))
    assert found is not None
    return found


def test_passwords_are_argon2_hashes(seeded: Session) -> None:
    for name in ("csr1", "senior"):
        stored = user(seeded, name).password_hash
        assert stored.startswith("$argon2id$") and "district-demo" not in stored


def test_sessions_and_tokens_are_signed_and_end_with_a_password_change(
    seeded: Session,
) -> None:
    signer = Signer("k" * 32)
    csr1 = user(seeded, "csr1")
    cookie = signer.session_cookie(csr1)
    token = signer.api_token(csr1)
    payload = signer.read(cookie, kind="session", max_age=60)
    assert _user_from_payload(seeded, payload) is csr1
    # A token is not a session cookie and vice versa (different salts).
    assert signer.read(token, kind="session", max_age=60) is None
    assert signer.read(cookie, kind="token", max_age=60) is None
    # Another key, or an edited value, is refused.
    assert Signer("x" * 32).read(cookie, kind="session", max_age=60) is None
    assert signer.read(cookie.replace(".", "!", 1), kind="session", max_age=60) is None
    # A new password ends every session and token; so does deactivation.
    csr1.password_hash = hash_password("a brand new password")
    seeded.flush()
    assert _user_from_payload(seeded, payload) is None
    fresh = signer.read(signer.session_cookie(csr1), kind="session", max_age=60)
    assert _user_from_payload(seeded, fresh) is csr1
    csr1.active = False
    seeded.flush()
    assert _user_from_payload(seeded, fresh) is None


def test_csrf_tokens_are_bound_to_the_session() -> None:
    signer = Signer("k" * 32)
    token = signer.csrf_token("session-a")
    assert signer.csrf_ok("session-a", token)
    assert not signer.csrf_ok("session-b", token)
    assert not signer.csrf_ok("", signer.csrf_token(""))
    assert not signer.csrf_ok("session-a", "")


def test_login_throttling_per_user_and_window(seeded: Session, clock: FixedClock) -> None:
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticate(
                session=seeded,
                username="csr2",
                password="nope",
                address="10.0.0.1",
                now=clock.now(),
            )
    with pytest.raises(LoginThrottled):
        authenticate(
            session=seeded,
            username="csr2",
            password="district-demo",
            address="10.0.0.1",
            now=clock.now(),
        )
    # Unknown users are counted too, and say nothing different.
    with pytest.raises(LoginFailed, match="wrong username or password"):
        authenticate(
            session=seeded, username="nobody", password="x", address="10.0.0.2", now=clock.now()
        )
    clock.advance(FAILURE_WINDOW + timedelta(seconds=1))
    ok = authenticate(
        session=seeded,
        username="CSR2",
        password="district-demo",
        address="10.0.0.1",
        now=clock.now(),
    )
    assert ok.username == "csr2"


def test_login_throttling_per_address(seeded: Session, clock: FixedClock) -> None:
    for n in range(MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(LoginFailed):
            authenticate(
                session=seeded,
                username=f"guess{n}",
                password="x",
                address="10.9.9.9",
                now=clock.now(),
            )
    with pytest.raises(LoginThrottled):
        authenticate(
            session=seeded,
            username="csr1",
            password="district-demo",
            address="10.9.9.9",
            now=clock.now(),
        )
    assert (
        authenticate(
            session=seeded,
            username="csr1",
            password="district-demo",
            address="10.1.1.1",
            now=clock.now(),
        ).username
        == "csr1"
    )


def test_pages_need_a_login(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    for path in ("/csr/", "/csr/tickets/1", "/csr/supervisor", "/csr/queue/rows"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/csr/login"


def test_logout_and_take_next_need_csrf(csr_app: CsrApp) -> None:
    client = csr_app.browser("csr1")
    assert client.post("/csr/logout", data={"csrf_token": "bad"}).status_code == 403
    assert client.post("/csr/next", data={"csrf_token": "bad"}).status_code == 403
    token = csr_app.form_token(client)
    assert client.post("/csr/logout", data={"csrf_token": token}).status_code == 303
