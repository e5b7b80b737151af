from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.services.service_requests import create_service_request


def test_service_request_reference(seeded: Session, clock: FixedClock) -> None:
    request = create_service_request(session=seeded, type="no_water", description="no water",
                                     source_channel="sms", now=clock.now())
    assert request.reference == f"SR-{request.id:06d}"
