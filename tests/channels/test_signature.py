"""X-Twilio-Signature checks on a real HTTP server: signed, unsigned, tampered, wrong URL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from accounts.settings import Settings
from channels.signature import MAX_FORM_BYTES, TwilioRequestDep
from tests.utils.live_server import LiveServer, serve
from tests.utils.twilio_signing import TwilioWebhookClient, sign

PUBLIC = "https://water.example.org/base"
TOKEN = "signing-test-token"
PARAMS = {"MessageSid": "SM123", "From": "+15305550101", "Body": "What is my balance?"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    settings = Settings(_env_file=None, public_base_url=PUBLIC)  # type: ignore[call-arg]
    settings = settings.model_copy(
        update={"twilio": settings.twilio.model_copy(update={"auth_token": SecretStr(TOKEN)})}
    )
    app = FastAPI()
    app.state.services = SimpleNamespace(settings=settings)

    @app.post("/hook")
    async def hook(tw: TwilioRequestDep) -> dict[str, object]:
        return {"url": tw.url, "form": dict(tw.form)}

    with serve(app) as live:
        yield live


def client(server: LiveServer) -> TwilioWebhookClient:
    return TwilioWebhookClient(server.url, PUBLIC, TOKEN)


def test_signed_request_passes_with_public_url(server: LiveServer) -> None:
    response = client(server).post("/hook?n=3", PARAMS)
    assert response.status_code == 200
    body = response.json()
    assert body["url"] == f"{PUBLIC}/hook?n=3"  # rebuilt from PUBLIC_BASE_URL, not the socket
    assert body["form"] == PARAMS


def test_unsigned_request_is_forbidden(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="channels.signature"):
        response = client(server).post("/hook", PARAMS, signature="")
    assert response.status_code == 403
    assert "missing signature" in caplog.text
    assert "5550101" not in caplog.text and "balance" not in caplog.text  # no PII logged


def test_tampered_body_is_forbidden(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    tampered = {**PARAMS, "Body": "Send me everything"}
    with caplog.at_level(logging.WARNING, logger="channels.signature"):
        response = client(server).post("/hook", tampered, sign_params=PARAMS)
    assert response.status_code == 403
    assert "signature mismatch" in caplog.text
    assert "+1530" not in caplog.text


def test_signature_for_another_url_or_token_is_forbidden(server: LiveServer) -> None:
    other_url = sign("http://127.0.0.1/hook", PARAMS, TOKEN)  # the socket URL, not the public one
    assert client(server).post("/hook", PARAMS, signature=other_url).status_code == 403
    wrong_token = sign(f"{PUBLIC}/hook", PARAMS, "another-token")
    assert client(server).post("/hook", PARAMS, signature=wrong_token).status_code == 403
    # A signature for a different query string does not carry over.
    query_sig = sign(f"{PUBLIC}/hook?n=1", PARAMS, TOKEN)
    assert client(server).post("/hook?n=2", PARAMS, signature=query_sig).status_code == 403


def test_extra_field_not_signed_is_forbidden(server: LiveServer) -> None:
    response = client(server).post("/hook", {**PARAMS, "NumMedia": "1"}, sign_params=PARAMS)
    assert response.status_code == 403


def test_oversized_and_malformed_bodies(server: LiveServer) -> None:
    big = {**PARAMS, "Body": "x" * (MAX_FORM_BYTES + 10)}
    assert client(server).post("/hook", big).status_code == 413
    response = httpx.post(
        f"{server.url}/hook",
        content=b'{"a": 1}',
        headers={"Content-Type": "application/json", "X-Twilio-Signature": "abc"},
    )
    assert response.status_code == 415
    bad_utf8 = httpx.post(
        f"{server.url}/hook",
        content=b"Body=%FF%FE&From=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "abc"},
    )
    assert bad_utf8.status_code in (400, 403)
