"""``GET /healthz``: each component of the product reported on its own."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter
from sqlalchemy import select, text

from accounts.models import MailboxLease
from gateway.services import Services, ServicesDep

router = APIRouter()

PROBE_TIMEOUT = 1.5


async def _database(services: Services) -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "backend": services.engine.dialect.name}

    try:
        return await asyncio.wait_for(asyncio.to_thread(probe), PROBE_TIMEOUT * 2)
    except Exception as error:
        return {"status": "down", "error": type(error).__name__}


async def _http(services: Services, url: str) -> dict[str, Any]:
    try:
        response = await services.http.get(url, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as error:
        return {"status": "down", "error": type(error).__name__}
    if response.status_code >= 400:
        return {"status": "down", "error": f"HTTP {response.status_code}"}
    return {"status": "ok"}


async def _inbox(services: Services) -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        with services.session_factory() as session:
            leases = list(session.scalars(select(MailboxLease)))
        now = services.clock.now()
        live = [lease for lease in leases if lease.expires_at > now]
        if not live:
            return {"status": "down", "error": "no inbox worker holds a mailbox lease"}
        return {"status": "ok", "mailboxes": len(live)}

    try:
        return await asyncio.wait_for(asyncio.to_thread(probe), PROBE_TIMEOUT * 2)
    except Exception as error:
        return {"status": "down", "error": type(error).__name__}


@router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, Any]:
    """Status of db, rasa, actions and inbox; ``degraded`` when any is down."""
    settings = services.settings
    db, rasa, actions, inbox = await asyncio.gather(
        _database(services),
        _http(services, f"{settings.rasa_url}/"),
        _http(services, f"{settings.actions_url}/health"),
        _inbox(services),
    )
    components = {"db": db, "rasa": rasa, "actions": actions, "inbox": inbox}
    healthy = all(c["status"] == "ok" for c in components.values())
    return {"status": "ok" if healthy else "degraded", "components": components}
