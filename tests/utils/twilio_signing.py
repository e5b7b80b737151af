"""Sign webhook requests exactly as Twilio does, and send them to a gateway.

Twilio computes ``X-Twilio-Signature`` as base64(HMAC-SHA1(auth token, URL +
every POST parameter name and value, sorted by name)) over the public URL it
called; ``twilio.request_validator.RequestValidator.compute_signature`` is the
reference implementation, so it is used here rather than re-implemented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """The signature Twilio would send for a POST of ``params`` to ``url``."""
    return RequestValidator(token).compute_signature(url, dict(params))


@dataclass
class TwilioWebhookClient:
    """Posts signed, form-encoded webhooks the way Twilio does.

    Attributes:
        server_url: Where the gateway actually listens (``http://127.0.0.1:port``).
        public_base_url: What Twilio believes it calls (``PUBLIC_BASE_URL``); signed.
        token: The auth token to sign with.
    """

    server_url: str
    public_base_url: str
    token: str
    timeout: float = 20.0
    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def public_url(self, path_and_query: str) -> str:
        """The public URL of a path (absolute URLs are taken as they are)."""
        if path_and_query.startswith("http"):
            return path_and_query
        return f"{self.public_base_url.rstrip('/')}{path_and_query}"

    def local_url(self, path_and_query: str) -> str:
        """Where to send a request for a public URL or a path."""
        if path_and_query.startswith(self.public_base_url.rstrip("/")):
            path_and_query = path_and_query[len(self.public_base_url.rstrip("/")) :]
        elif path_and_query.startswith("http"):
            raise ValueError(f"not a URL of this gateway: {path_and_query}")
        return f"{self.server_url.rstrip('/')}{path_and_query}"

    def post(
        self,
        path_and_query: str,
        params: Mapping[str, str],
        *,
        signature: str | None = None,
        sign_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``params`` signed for the public URL.

        Args:
            path_and_query: ``/twilio/sms`` or an absolute public URL from TwiML.
            params: The form fields sent.
            signature: Send this signature instead of a correct one ("" for none).
            sign_params: Sign these fields instead of ``params`` (tampering tests).
            headers: Extra headers.
        """
        url = self.public_url(path_and_query)
        sent_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is None:
            sent_headers[SIGNATURE_HEADER] = sign(url, sign_params or params, self.token)
        elif signature:
            sent_headers[SIGNATURE_HEADER] = signature
        sent_headers.update(headers or {})
        self.sent.append((url, dict(params)))
        return httpx.post(
            self.local_url(path_and_query),
            content=urlencode(list(params.items())).encode(),
            headers=sent_headers,
            timeout=self.timeout,
        )
