"""Tables of the CSR app beyond the shared account store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from accounts.db import Base
from accounts.models import Ticket

# "The next ticket" walks this partial index in queue order instead of sorting every
# unclaimed ticket (claim_next's SELECT ... ORDER BY priority, due_at, id LIMIT 1).
NEW_TICKETS_IN_QUEUE_ORDER = Index(
    "ix_tickets_new_queue_order",
    Ticket.priority,
    Ticket.due_at,
    Ticket.id,
    postgresql_where=Ticket.status == "new",
    sqlite_where=Ticket.status == "new",
)


class LoginAttempt(Base):
    """One CSR login try, kept for rate limiting (shared by every gateway worker)."""

    __tablename__ = "csr_login_attempts"
    __table_args__ = (
        Index("ix_csr_login_attempts_username_at", "username", "at"),
        Index("ix_csr_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    # The client's IP address, not a customer's: CSR logins only.
    address: Mapped[str] = mapped_column(String(64), default="")
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]
