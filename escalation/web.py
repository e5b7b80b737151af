"""The CSR web app at ``/csr/``: server-rendered pages with a little plain JavaScript.

The pages live in their own modules (login, queue, ticket, supervisor) and are
made the same way (:mod:`escalation.pages`); every form carries a CSRF token
(:data:`escalation.auth.CsrAction`) and every action goes through the one table of
:mod:`escalation.actions`, which the JSON API serves too.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

from escalation import login_pages, queue_pages, supervisor_pages, ticket_pages
from escalation.pages import HtmlErrorsRoute

router = APIRouter(prefix="/csr", include_in_schema=False, route_class=HtmlErrorsRoute)

_STATIC_DIR = Path(__file__).parent / "static"
_STATIC = {
    "csr.js": ("application/javascript", _STATIC_DIR / "csr.js"),
    "csr.css": ("text/css", _STATIC_DIR / "csr.css"),
}


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The app's own script and stylesheet (vendored: the machine has no CDN)."""
    if name not in _STATIC:
        raise HTTPException(status_code=404)
    media_type, path = _STATIC[name]
    response = Response(path.read_text(encoding="utf-8"), media_type=media_type)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


router.include_router(login_pages.router)
router.include_router(queue_pages.router)
router.include_router(ticket_pages.router)
router.include_router(supervisor_pages.router)


@router.get("", include_in_schema=False)
def csr_root() -> Response:
    """``/csr`` without the slash."""
    return RedirectResponse("/csr/", status_code=307)
