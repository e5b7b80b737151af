"""Building the twilio REST client the gateway hands to its senders.

``TWILIO_API_BASE`` points the client at another host (a local recording
server in tests) by rewriting the scheme and host of every URL the library
builds; paths, auth and form bodies stay exactly what Twilio would receive.
Built once when the app starts (never inside a function that sends).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from accounts.settings import Settings

#: The library logs request URLs and form fields at INFO; those contain phone
#: numbers, so its logger only lets warnings through.
_quiet_logger = logging.getLogger("channels.twilio_http")
_quiet_logger.setLevel(logging.WARNING)

DEFAULT_TIMEOUT_SECONDS = 10.0


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """A ``TwilioHttpClient`` that sends every request to ``api_base`` instead."""

    def __init__(self, api_base: str = "", *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout, logger=_quiet_logger)
        self.api_base = api_base.rstrip("/")

    def rebase(self, url: str) -> str:
        """The URL with its scheme and host replaced by ``api_base`` (if set)."""
        if not self.api_base:
            return url
        base = urlsplit(self.api_base)
        parts = urlsplit(url)
        path = f"{base.path.rstrip('/')}{parts.path}"
        return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Send the request to the rebased URL."""
        return super().request(method, self.rebase(url), *args, **kwargs)


def make_twilio_client(settings: Settings, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Any:
    """The REST client for the configured account, or ``None`` without credentials.

    Args:
        settings: Provides ``twilio.account_sid``, ``auth_token`` and ``api_base``.
        timeout: Socket timeout per request, in seconds.

    Returns:
        A ``twilio.rest.Client``, or ``None`` when no account SID is configured
        (the demo: outbound messages then go to the outbox and the console).
    """
    twilio = settings.twilio
    if not twilio.has_credentials:
        return None
    return Client(
        twilio.account_sid,
        twilio.auth_token.get_secret_value(),
        http_client=RebasedHttpClient(twilio.api_base, timeout=timeout),
        # An empty mapping: the library must not read TWILIO_* from the environment.
        environment={"_": ""},
    )
