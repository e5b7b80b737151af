"""Every table of every package, registered on one metadata (for Alembic and tests)."""

from __future__ import annotations

from sqlalchemy import MetaData

from accounts import models  # noqa: F401  (registers the tables)
from accounts.db import Base
from escalation import models as escalation_models  # noqa: F401

metadata: MetaData = Base.metadata
