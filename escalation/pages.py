"""How every CSR page is made: escaped templates, strict security headers, HTML error pages.

Every page escapes what it shows (Jinja2 autoescape; customer-written text is never
marked safe) and carries a strict Content-Security-Policy (scripts and styles from
this app only).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from escalation.deps import CsrServices, csr_services
from escalation.presenters import channel_label, intent_label, local_day, local_time
from escalation.routing import PRIORITY_NAMES

_HERE = Path(__file__).parent
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _templates() -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


templates = _templates()


def secure(response: Response) -> Response:
    """Add the security headers every CSR page carries."""
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def https(services: CsrServices) -> bool:
    """Whether the app is served over https (cookies are then ``Secure``)."""
    return services.settings.public_base_url.startswith("https://")


def render(
    request: Request,
    services: CsrServices,
    name: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A template rendered with the district, its time zone and the label helpers."""
    tz = services.district.tz
    now = services.clock.now()
    base = {
        "district": services.district,
        "priority_names": PRIORITY_NAMES,
        "when": lambda value: local_time(value, tz) if value else "",
        "day": lambda value: local_day(value, tz) if value else "",
        "intent_label": intent_label,
        "channel_label": channel_label,
        "now": now,
        "tz_name": now.astimezone(tz).tzname(),
    }
    response = templates.TemplateResponse(
        request, name, {**base, **values}, status_code=status_code
    )
    return secure(response)


class HtmlErrorsRoute(APIRoute):
    """Errors of CSR pages as HTML pages (and the login redirect), not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as error:
                if error.status_code == 303:
                    return RedirectResponse("/csr/login", status_code=303)
                return render(
                    request,
                    csr_services(request),
                    "error.html",
                    {"status": error.status_code, "detail": str(error.detail)},
                    status_code=error.status_code,
                )

        return route_handler
