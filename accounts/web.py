"""The gateway's FastAPI app: every router of every package, one context."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from accounts import health, internal_api
from accounts.context import AppContext, build_context
from accounts.logging_setup import configure_logging
from accounts.settings import get_settings
from accounts.startup_checks import production_refusals
from channels import status_callbacks, twilio_sms, twilio_voice
from escalation import api as escalation_api
from escalation import paging_routes
from escalation import web as escalation_web

log = logging.getLogger(__name__)

# Every router of the gateway: the internal API for the action server, the
# Twilio webhooks, the CSR app and its JSON API, and on-call paging callbacks.
ROUTERS: tuple[APIRouter, ...] = (
    internal_api.router,
    twilio_sms.router,
    twilio_voice.router,
    status_callbacks.router,
    escalation_api.router,
    escalation_web.router,
    paging_routes.router,
)


def create_app(context: AppContext | None = None) -> FastAPI:
    """The gateway app; ``context`` defaults to the production wiring from settings."""
    context = context or build_context(get_settings())
    configure_logging(context.settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        refusals = production_refusals(context.settings, context.session_factory)
        if refusals:
            raise RuntimeError("refusing to start in production mode: " + "; ".join(refusals))
        yield
        await context.http.aclose()
        context.engine.dispose()

    app = FastAPI(
        title=f"{context.district.name} assistant",
        lifespan=lifespan,
        docs_url=None if context.settings.production else "/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
