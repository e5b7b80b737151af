"""Every table of every package, registered on one metadata (for Alembic and tests)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from accounts import models  # noqa: F401  (registers the tables)
from accounts.db import Base

# Packages that add tables of their own; missing ones are simply not there yet.
_EXTRA_MODEL_MODULES = ("escalation.models", "channels.models", "inbox.models")
for _name in _EXTRA_MODEL_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as error:
        if error.name != _name:
            raise

metadata: MetaData = Base.metadata
