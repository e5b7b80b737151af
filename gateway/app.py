"""The gateway's FastAPI app: every router of every package, one service container."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from accounts.logging_setup import configure_logging
from accounts.settings import get_settings
from accounts.startup_checks import production_refusals
from channels import page_calls, status_callbacks, twilio_sms
from channels.voice import routes as voice_routes
from escalation import api as escalation_api
from escalation import web as escalation_web
from gateway import health, internal_api
from gateway.services import Services, build_services

log = logging.getLogger(__name__)

# Every router of the gateway: health, the internal API for the action server,
# the Twilio webhooks (messages, calls, delivery status, page calls), the CSR
# app and its JSON API.
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    internal_api.router,
    twilio_sms.router,
    voice_routes.router,
    status_callbacks.router,
    page_calls.router,
    escalation_api.router,
    escalation_web.router,
)


def create_app(services: Services | None = None) -> FastAPI:
    """The gateway app; ``services`` defaults to the production wiring from settings."""
    services = services or build_services(get_settings())
    configure_logging(services.settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refusals = production_refusals(services.settings, services.session_factory)
        if refusals:
            raise RuntimeError("refusing to start in production mode: " + "; ".join(refusals))
        yield
        # Tests may have swapped their own container in; close the one this app was built with.
        await services.aclose()

    app = FastAPI(
        title=f"{services.district.name} assistant",
        lifespan=lifespan,
        docs_url=None if services.settings.production else "/docs",
        redoc_url=None,
    )
    app.state.services = services
    for router in ROUTERS:
        app.include_router(router)
    return app
