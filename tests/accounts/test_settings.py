"""Settings: what production mode refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from accounts.settings import Settings


def test_pinned_clock_is_refused_in_production() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        production=True,
        assistant_now=datetime(2026, 11, 27, 6, tzinfo=UTC),
    )
    assert any("ASSISTANT_NOW" in p for p in settings.production_problems())
