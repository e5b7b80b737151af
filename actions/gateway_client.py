"""HTTP client of the gateway's internal API (accounts/internal_api.py).

The actions hold no business rules: they ask the gateway, which owns the
account store. Every call carries the shared secret in ``X-Internal-Token``
and has a short timeout, because a customer is waiting on the other end.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 3.0


class GatewayError(Exception):
    """The gateway could not answer (down, timeout, 5xx, bad reply): a system error."""


class GatewayRefused(Exception):
    """The gateway answered with a 4xx: the request is not allowed or not possible.

    Attributes:
        status: the HTTP status (403 not verified, 404 not found, 409 conflict ...).
        detail: the gateway's ``detail`` message.
    """

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class GatewayConfig:
    """Where the gateway is and how to authenticate (the action server's settings)."""

    base_url: str
    token: str
    timeout: float

    @classmethod
    def from_env(cls) -> GatewayConfig:
        """Read GATEWAY_INTERNAL_URL, INTERNAL_API_TOKEN and GATEWAY_TIMEOUT.

        The action server runs in Rasa's own environment and cannot import the
        gateway's settings module, so these three variables are its settings.
        """
        return cls(
            base_url=os.environ.get("GATEWAY_INTERNAL_URL", DEFAULT_URL).rstrip("/"),
            token=os.environ.get("INTERNAL_API_TOKEN", ""),
            timeout=float(os.environ.get("GATEWAY_TIMEOUT", DEFAULT_TIMEOUT)),
        )


class GatewayClient:
    """Calls to ``/internal/...`` on the gateway.

    Args:
        config: base URL, shared secret and timeout.
        transport: an httpx transport for tests; the default is the network.
    """

    def __init__(
        self, config: GatewayConfig, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._transport = transport

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        # A client per call: the action server's event loop may change between
        # requests (Sanic workers), and httpx clients are bound to one loop.
        async with httpx.AsyncClient(
            base_url=self._config.base_url,
            timeout=self._config.timeout,
            headers={"X-Internal-Token": self._config.token},
            transport=self._transport,
        ) as client:
            try:
                response = await client.request(method, path, json=json, params=params)
            except httpx.HTTPError as exc:
                log.warning("gateway %s %s failed: %s", method, path, type(exc).__name__)
                raise GatewayError(type(exc).__name__) from exc
        if 400 <= response.status_code < 500:
            try:
                detail = str(response.json().get("detail", ""))
            except ValueError:
                detail = response.text[:200]
            raise GatewayRefused(response.status_code, detail)
        if response.status_code >= 500:
            log.warning("gateway %s %s answered %s", method, path, response.status_code)
            raise GatewayError(f"status {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise GatewayError("reply is not JSON") from exc
        if not isinstance(body, dict):
            raise GatewayError("reply is not a JSON object")
        return body

    # --- conversation and identity ------------------------------------------
    async def conversation(self, conversation_id: str) -> dict[str, Any]:
        """Caller match, tier and language of a conversation."""
        return await self._request("GET", f"/internal/conversations/{conversation_id}")

    async def verify(
        self,
        conversation_id: str,
        *,
        factor: str | None = None,
        account_number: str | None = None,
        zip_code: str | None = None,
    ) -> dict[str, Any]:
        """Check a knowledge factor (matched caller) or account number + ZIP."""
        payload: dict[str, Any] = {}
        if factor is not None:
            payload["factor"] = factor
        if account_number is not None:
            payload["account_number"] = account_number
        if zip_code is not None:
            payload["zip"] = zip_code
        return await self._request(
            "POST", f"/internal/conversations/{conversation_id}/verify", json=payload
        )

    # --- billing ---------------------------------------------------------------
    async def balance(self, conversation_id: str) -> dict[str, Any]:
        """Balance summary of the verified account (403 below tier 1)."""
        return await self._request("GET", f"/internal/conversations/{conversation_id}/balance")

    async def payment_link(self, conversation_id: str) -> dict[str, Any]:
        """A payment-portal link with the account filled in, and the amount due."""
        return await self._request(
            "POST", f"/internal/conversations/{conversation_id}/payment-link"
        )

    async def arrangement_options(self, conversation_id: str) -> dict[str, Any]:
        """Arrangement options within the district's policy."""
        return await self._request("GET", f"/internal/conversations/{conversation_id}/arrangements")

    async def record_arrangement(self, conversation_id: str, option_id: str) -> dict[str, Any]:
        """Record the customer's chosen arrangement on the account."""
        return await self._request(
            "POST",
            f"/internal/conversations/{conversation_id}/arrangements",
            json={"option_id": option_id},
        )

    async def restoration(self, conversation_id: str) -> dict[str, Any]:
        """Lock-off status and the amount needed to restore service."""
        return await self._request("GET", f"/internal/conversations/{conversation_id}/restoration")

    async def request_restoration(self, conversation_id: str) -> dict[str, Any]:
        """Ask for service to be turned back on (409 while money is owed)."""
        return await self._request("POST", f"/internal/conversations/{conversation_id}/restoration")

    # --- service ---------------------------------------------------------------
    async def notices(self, conversation_id: str, *, address: str | None = None) -> dict[str, Any]:
        """Current outages, planned work and water-quality notices for an address.

        Without ``address`` the verified account's service address is used.
        """
        params = {"address": address} if address else None
        return await self._request(
            "GET", f"/internal/conversations/{conversation_id}/notices", params=params
        )

    async def service_request(
        self, conversation_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Create a service request (and a ticket when asked)."""
        return await self._request(
            "POST", f"/internal/conversations/{conversation_id}/service-requests", json=payload
        )

    async def emergency(self, conversation_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Urgent service request plus an emergency ticket."""
        return await self._request(
            "POST", f"/internal/conversations/{conversation_id}/emergency", json=payload
        )

    async def handoff(self, conversation_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Mark the conversation handed off and open a ticket for the CSR queue."""
        return await self._request(
            "POST", f"/internal/conversations/{conversation_id}/handoff", json=payload
        )

    async def district(self) -> dict[str, Any]:
        """The district facts (office, hours, payments, rebates, policy)."""
        return await self._request("GET", "/internal/district")


@lru_cache(maxsize=1)
def gateway() -> GatewayClient:
    """The action server's one client, configured from the environment on first use."""
    return GatewayClient(GatewayConfig.from_env())
