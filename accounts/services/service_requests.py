"""Utility Service Requests (USRs): field and office work with a reference number."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from accounts.models import Account, Conversation, ServiceRequest

PRIORITIES = ("emergency", "high", "normal", "low")


def create_service_request(
    *,
    session: Session,
    type: str,
    description: str,
    source_channel: str,
    now: datetime,
    priority: str = "normal",
    account: Account | None = None,
    address: str = "",
    conversation: Conversation | None = None,
    details: dict[str, Any] | None = None,
) -> ServiceRequest:
    """Create a USR and give it a reference customers can quote (``SR-000123``)."""
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    request = ServiceRequest(
        reference=f"tmp-{uuid.uuid4().hex[:12]}",
        account_id=account.id if account else None,
        conversation_id=conversation.id if conversation else None,
        type=type,
        priority=priority,
        address=address or (account.service_address if account else ""),
        description=description,
        details=details or {},
        source_channel=source_channel,
        created_at=now,
    )
    session.add(request)
    session.flush()
    request.reference = f"SR-{request.id:06d}"
    session.flush()
    return request
