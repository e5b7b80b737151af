"""The supervisor page (Senior CSRs and managers): queue depth, past due, containment, CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from accounts.db import SessionDep
from accounts.services.tickets import OPEN_STATUSES
from escalation.auth import CsrPage, CsrSession, require_supervisor
from escalation.deps import CsrServices, CsrServicesDep
from escalation.pages import HtmlErrorsRoute, render
from escalation.reports import SupervisorReport, supervisor_report

router = APIRouter(route_class=HtmlErrorsRoute)


def supervisor_session(csr: CsrPage) -> CsrSession:
    """FastAPI dependency: a logged-in Senior CSR or manager; 403 for anyone else."""
    require_supervisor(csr.user)
    return csr


SupervisorPage = Annotated[CsrSession, Depends(supervisor_session)]


def _report_days(days: int) -> int:
    return min(max(days, 1), 90)


def _report(session: Session, services: CsrServices, days: int) -> SupervisorReport:
    return supervisor_report(
        session=session, now=services.clock.now(), tz=services.district.tz, days=days
    )


@router.get("/supervisor")
def supervisor_page(
    request: Request,
    csr: SupervisorPage,
    session: SessionDep,
    services: CsrServicesDep,
    days: int = 7,
) -> Response:
    """Queue depth by level, past due, containment, reasons, volume by channel and hour."""
    days = _report_days(days)
    report = _report(session, services, days)
    return render(
        request,
        services,
        "supervisor.html",
        {
            "report": report,
            "user": csr.user,
            "days": days,
            "csrf_token": csr.csrf_token,
            "supervisor": True,
            "open_statuses": OPEN_STATUSES,
        },
    )


@router.get("/supervisor.csv")
def supervisor_csv(
    csr: SupervisorPage, session: SessionDep, services: CsrServicesDep, days: int = 7
) -> Response:
    """The supervisor figures as CSV."""
    report = _report(session, services, _report_days(days))
    stamp = services.clock.now().astimezone(services.district.tz).strftime("%Y%m%d-%H%M")
    return PlainTextResponse(
        report.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="csr-report-{stamp}.csv"'},
    )
