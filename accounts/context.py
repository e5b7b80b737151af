"""What a running gateway holds: settings, database, clock, district, provider clients.

Built once by the entry point and handed to the app; tests build their own with
local servers and a fixed clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.business_calendar import BusinessCalendar
from accounts.clock import Clock, clock_from
from accounts.db import make_engine, make_sessionmaker, writer_engine
from accounts.district import District, load_district
from accounts.settings import Settings


@dataclass
class AppContext:
    """Everything request handlers and workers need, injected."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    district: District
    calendar: BusinessCalendar
    http: httpx.AsyncClient
    # Provider clients added by channel packages (twilio REST client, SMTP sender, ...).
    extras: dict[str, Any] = field(default_factory=dict)


def build_context(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    http: httpx.AsyncClient | None = None,
) -> AppContext:
    """The production wiring; any part may be handed in instead."""
    engine = engine or make_engine(settings.effective_database_url)
    district = load_district(settings.district_file)
    return AppContext(
        settings=settings,
        engine=engine,
        session_factory=make_sessionmaker(writer_engine(engine)),
        clock=clock or clock_from(settings.assistant_now),
        district=district,
        calendar=BusinessCalendar(district),
        http=http or httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)),
    )
