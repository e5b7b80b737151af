"""FastAPI dependencies for the pieces of :class:`accounts.context.AppContext`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from accounts.business_calendar import BusinessCalendar
from accounts.clock import Clock
from accounts.context import AppContext
from accounts.db import SessionDep as SessionDep
from accounts.district import District
from accounts.settings import Settings


def get_context(request: Request) -> AppContext:
    """The app's context."""
    context: AppContext = request.app.state.context
    return context


def _settings(request: Request) -> Settings:
    return get_context(request).settings


def _clock(request: Request) -> Clock:
    return get_context(request).clock


def _district(request: Request) -> District:
    return get_context(request).district


def _calendar(request: Request) -> BusinessCalendar:
    return get_context(request).calendar


ContextDep = Annotated[AppContext, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
DistrictDep = Annotated[District, Depends(_district)]
CalendarDep = Annotated[BusinessCalendar, Depends(_calendar)]
