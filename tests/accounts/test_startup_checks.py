"""Production mode refuses demo users and demo secrets."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from accounts.db import make_sessionmaker
from accounts.settings import Settings
from accounts.startup_checks import production_refusals


def test_production_refuses_demo_users_and_secrets(
    seeded: Session, settings: Settings, engine: Engine
) -> None:
    settings.production = True
    reasons = production_refusals(settings, make_sessionmaker(engine))
    assert any("demo CSR user" in r for r in reasons)
    assert any("TWILIO_AUTH_TOKEN" in r for r in reasons)
    settings.production = False
    assert production_refusals(settings, make_sessionmaker(engine)) == []
