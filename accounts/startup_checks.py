"""What production mode refuses: demo secrets, a pinned clock, demo CSR users."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import CsrUser
from accounts.settings import Settings


def production_refusals(settings: Settings, session_factory: sessionmaker[Session]) -> list[str]:
    """Reasons this installation must not run in production mode (empty when fine)."""
    if not settings.production:
        return []
    reasons = settings.production_problems()
    with session_factory() as session:
        demo_users = session.scalar(
            select(func.count(CsrUser.id)).where(CsrUser.is_demo.is_(True), CsrUser.active)
        )
    if demo_users:
        reasons.append(
            f"{demo_users} demo CSR user(s) exist; remove them before running in production"
        )
    return reasons
