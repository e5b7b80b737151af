"""Checking that a webhook really comes from Twilio (``X-Twilio-Signature``).

Twilio signs the full URL it called plus every POST parameter with the
account's auth token (HMAC-SHA1, base64). Behind a proxy or tunnel the URL the
gateway sees is not the one Twilio called, so the public URL is rebuilt from
``PUBLIC_BASE_URL`` + path + query. There is no setting that turns the check
off: the demo uses a fixed development token that the simulator signs with.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator

from accounts.deps import services_of
from accounts.settings import Settings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
#: Twilio's own webhook bodies are a few kilobytes; anything far larger is not Twilio.
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200


@dataclass(frozen=True, slots=True)
class TwilioRequest:
    """A verified Twilio webhook.

    Attributes:
        url: The public URL Twilio called (what the signature covers).
        form: The POST parameters (first value of each name).
        raw: Every parameter in order, including repeated names.
    """

    url: str
    form: Mapping[str, str]
    raw: FormData

    def get(self, name: str, default: str = "") -> str:
        """A parameter's value, stripped, or ``default``."""
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else default


def settings_of(request: Request) -> Settings:
    """The settings of the app's service container."""
    settings: Settings = services_of(request).settings
    return settings


def public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio called: configured public base + path + query string."""
    base = settings.public_base_url.rstrip("/")
    url = f"{base}{request.url.path}"
    if request.url.query:
        url = f"{url}?{request.url.query}"
    return url


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_FORM_BYTES:
                raise HTTPException(status_code=413, detail="request body too large")
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="bad content-length") from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise HTTPException(status_code=413, detail="request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_form(body: bytes) -> FormData:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail="malformed form body") from exc
    items: list[tuple[str, str | UploadFile]] = list(pairs)
    return FormData(items)


def _reject(path: str, reason: str) -> HTTPException:
    # The path and reason only: never the caller's number or the message body.
    logger.warning("twilio webhook rejected: path=%s reason=%s", path, reason)
    return HTTPException(status_code=403, detail="invalid Twilio signature")


async def verified_twilio_request(request: Request) -> TwilioRequest:
    """FastAPI dependency: the webhook's parameters once its signature checks out.

    Raises:
        HTTPException: 403 for a missing or wrong signature, 413 for an
            oversized body, 415 for a body that is not form-encoded, 400 for
            a body that cannot be parsed.
    """
    settings = settings_of(request)
    content_type = request.headers.get("content-type", "")
    if content_type and not content_type.startswith("application/x-www-form-urlencoded"):
        raise HTTPException(status_code=415, detail="expected a form-encoded body")
    body = await _read_body(request)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise _reject(request.url.path, "missing signature")
    token = settings.twilio.auth_token.get_secret_value()
    if not token:
        raise _reject(request.url.path, "no auth token configured")
    raw = _parse_form(body)
    url = public_url(request, settings)
    if not RequestValidator(token).validate(url, raw, signature):
        raise _reject(request.url.path, "signature mismatch")
    # The first value wins, as Twilio never repeats a name in these webhooks.
    first: dict[str, str] = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            first.setdefault(key, value)
    return TwilioRequest(url=url, form=first, raw=raw)


TwilioRequestDep = Annotated[TwilioRequest, Depends(verified_twilio_request)]
