"""The gateway's client for Rasa's REST channel (``POST /webhooks/rest/webhook``).

A channel waits for Rasa only a short, channel-specific time (a few seconds on
SMS, less on voice): Twilio gives a webhook 15 s in total and the customer
should never wait on a stuck model. Any failure (refused connection, timeout,
HTTP error, a body that is not Rasa's message list) is one system error,
:class:`RasaUnavailable`, that the relay turns into an apology and a ticket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx

from accounts.errors import SystemError_

SMS_TIMEOUT_SECONDS = 4.0
VOICE_TIMEOUT_SECONDS = 3.0
EMAIL_TIMEOUT_SECONDS = 10.0
WEBHOOK_PATH = "/webhooks/rest/webhook"
EVENTS_PATH = "/conversations/{sender}/tracker/events"


class RasaUnavailable(SystemError_):
    """Rasa did not answer usefully in time."""


class RasaClient:
    """Sends one customer message to Rasa and returns its messages.

    Args:
        http: A shared ``httpx.AsyncClient`` (injected; owned by the app).
        base_url: Rasa's base URL, e.g. ``http://127.0.0.1:5005``.
        token: Rasa's ``--auth-token``, sent as the ``token`` query parameter.
    """

    def __init__(self, *, http: httpx.AsyncClient, base_url: str, token: str = "") -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token

    async def send(
        self,
        *,
        sender: str,
        message: str,
        metadata: Mapping[str, Any],
        timeout: float,
    ) -> list[dict[str, Any]]:
        """Post one message and return Rasa's replies.

        Args:
            sender: Rasa's conversation id (the gateway's conversation id).
            message: The customer's (redacted) text, or ``/intent`` to trigger one.
            metadata: Channel, caller and language details for custom actions.
            timeout: Total seconds allowed, connection included.

        Returns:
            Rasa's message dicts (``text``, ``buttons``, ``custom``...).

        Raises:
            RasaUnavailable: Rasa is down, slow, erroring or answered nonsense.
        """
        payload = {"sender": sender, "message": message, "metadata": dict(metadata)}
        response = await self._post(WEBHOOK_PATH, payload, timeout)
        try:
            body = response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise RasaUnavailable("response is not JSON") from exc
        if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
            raise RasaUnavailable("response is not a list of messages")
        return body

    async def set_slot(self, *, sender: str, name: str, value: Any, timeout: float) -> None:
        """Set a slot on a conversation's tracker (``POST .../tracker/events``).

        Used when the caller changes something outside the dialogue, e.g. the
        language chosen on the keypad, so the bot's own responses follow.

        Raises:
            RasaUnavailable: Rasa is down, slow or refused the event.
        """
        event = {"event": "slot", "name": name, "value": value}
        await self._post(EVENTS_PATH.format(sender=sender), event, timeout)

    async def _post(self, path: str, body: Mapping[str, Any], timeout: float) -> httpx.Response:
        """POST JSON to Rasa within ``timeout``; any failure is :class:`RasaUnavailable`."""
        params = {"token": self.token} if self.token else None
        try:
            async with asyncio.timeout(timeout):
                response = await self.http.post(
                    f"{self.base_url}{path}",
                    json=body,
                    params=params,
                    timeout=httpx.Timeout(timeout),
                )
        except TimeoutError as exc:
            raise RasaUnavailable(f"no answer within {timeout:.1f}s") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        return response
