"""What every request handler may use, and the FastAPI dependencies that hand it out.

The gateway (the composition root) builds one container of services and puts
it on ``app.state.services``; each package below it describes the part it
needs as a Protocol (this module's :class:`CoreServices`, ``channels.deps``,
``escalation.deps``) and never imports the gateway. The container satisfies
every one of them structurally.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.business_calendar import BusinessCalendar
from accounts.clock import Clock
from accounts.district import District
from accounts.settings import Settings


class CoreServices(Protocol):
    """Settings, database, clock and district facts: what every part of the product reads."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def session_factory(self) -> sessionmaker[Session]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def district(self) -> District: ...

    @property
    def calendar(self) -> BusinessCalendar: ...


def services_of(request: Request) -> Any:
    """The app's service container (typed by each package's own Protocol)."""
    return request.app.state.services


async def _core(request: Request) -> CoreServices:
    # ``async``: a plain function would cost a thread-pool hop on every request.
    core: CoreServices = services_of(request)
    return core


CoreDep = Annotated[CoreServices, Depends(_core)]


async def _settings(request: Request) -> Settings:
    return services_of(request).settings  # type: ignore[no-any-return]


async def _clock(request: Request) -> Clock:
    return services_of(request).clock  # type: ignore[no-any-return]


async def _district(request: Request) -> District:
    return services_of(request).district  # type: ignore[no-any-return]


async def _calendar(request: Request) -> BusinessCalendar:
    return services_of(request).calendar  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
DistrictDep = Annotated[District, Depends(_district)]
CalendarDep = Annotated[BusinessCalendar, Depends(_calendar)]
