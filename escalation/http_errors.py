"""Queue errors as HTTP status codes: the one mapping of the JSON API and the CSR pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException

from escalation import queue


@contextmanager
def http_errors() -> Iterator[None]:
    """Queue errors raised inside as ``HTTPException``: 404, 403, 409 or 422.

    The JSON API answers them as JSON; the CSR pages render them as error pages.
    """
    try:
        yield
    except queue.TicketNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    except queue.Forbidden as error:
        raise HTTPException(status_code=403, detail=str(error)) from error
    except queue.Conflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    except queue.InvalidRequest as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
