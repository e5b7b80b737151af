"""The voice webhooks: their paths, and the signature check in front of them."""

from __future__ import annotations

from fastapi.routing import APIRoute

from channels.voice.routes import router
from gateway.app import ROUTERS
from tests.channels.conftest import UNKNOWN, Call, Gateway

PATHS = {
    "/twilio/voice",
    "/twilio/voice/language",
    "/twilio/voice/turn",
    "/twilio/voice/pay",
    "/twilio/voice/dial",
    "/twilio/voice/whisper",
    "/twilio/voice/recorded",
    "/twilio/voice/transcription",
}


def test_the_webhooks_keep_their_paths_and_are_served_by_the_gateway() -> None:
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    assert {r.path for r in routes} == PATHS
    assert all(r.methods == {"POST"} for r in routes)
    assert router in ROUTERS


def test_unsigned_voice_webhook_is_rejected(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway)
    response = twilio_gateway.twilio.post("/twilio/voice", call.params(), signature="")
    assert response.status_code == 403
    response = twilio_gateway.twilio.post(
        "/twilio/voice", call.params(), sign_params=call.params(From=UNKNOWN)
    )
    assert response.status_code == 403


def test_every_voice_webhook_checks_the_signature(twilio_gateway: Gateway) -> None:
    call = Call(twilio_gateway)
    for path in sorted(PATHS):
        response = twilio_gateway.twilio.post(path, call.params(), signature="")
        assert response.status_code == 403, path
