"""The one mapping of queue errors to HTTP status codes."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from escalation import queue
from escalation.http_errors import http_errors


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (queue.TicketNotFound("ticket 7 does not exist"), 404),
        (queue.Forbidden("CSR I may not open a CSR II ticket"), 403),
        (queue.Conflict("ticket 7 is held by csr1"), 409),
        (queue.InvalidRequest("unknown disposition 'x'"), 422),
    ],
    ids=["not-found", "forbidden", "conflict", "invalid"],
)
def test_queue_errors_are_status_codes(error: queue.QueueError, status: int) -> None:
    with pytest.raises(HTTPException) as raised, http_errors():
        raise error
    assert raised.value.status_code == status
    assert raised.value.detail == str(error)


def test_other_errors_pass_through() -> None:
    with pytest.raises(KeyError), http_errors():
        raise KeyError("not a queue error")
