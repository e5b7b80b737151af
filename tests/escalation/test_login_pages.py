"""The CSR app's login over real HTTP: session cookie flags, CSRF, rate limiting."""

from __future__ import annotations

from tests.escalation.conftest import CsrApp, csrf_of


def test_login_sets_a_safe_session_cookie(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    page = client.get("/csr/login")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    response = client.post(
        "/csr/login",
        data={"username": "csr1", "password": "district-demo", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("csr_session=")
    )
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    queue_page = client.get("/csr/")
    assert queue_page.status_code == 200
    assert "Casey Ruiz" in queue_page.text


def test_login_without_csrf_token_is_refused(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    client.get("/csr/login")
    response = client.post(
        "/csr/login", data={"username": "csr1", "password": "district-demo", "csrf_token": "x"}
    )
    assert response.status_code == 403
    assert "csr_session=" not in response.headers.get("set-cookie", "")


def test_failed_logins_are_rate_limited(csr_app: CsrApp) -> None:
    client = csr_app.browser()
    for _ in range(5):
        page = client.get("/csr/login")
        response = client.post(
            "/csr/login",
            data={"username": "csr3", "password": "wrong", "csrf_token": csrf_of(page.text)},
        )
        assert response.status_code == 401
        assert "Wrong username or password" in response.text
    page = client.get("/csr/login")
    response = client.post(
        "/csr/login",
        data={"username": "csr3", "password": "district-demo", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 429
    assert "csr_session=" not in response.headers.get("set-cookie", "")
