"""The gateway's FastAPI app: every router of every package, one context."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from accounts import health
from accounts.context import AppContext, build_context
from accounts.logging_setup import configure_logging
from accounts.settings import get_settings
from accounts.startup_checks import production_refusals

log = logging.getLogger(__name__)

# Routers of the other packages, included when the package provides them.
ROUTERS = (
    "accounts.internal_api:router",
    "channels.twilio_sms:router",
    "channels.twilio_voice:router",
    "channels.status_callbacks:router",
    "escalation.api:router",
    "escalation.web:router",
    "escalation.paging_routes:router",
)


def _load_router(spec: str) -> APIRouter | None:
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise
    router: APIRouter = getattr(module, attribute)
    return router


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
    for spec in ROUTERS:
        router = _load_router(spec)
        if router is not None:
            app.include_router(router)
    return app
