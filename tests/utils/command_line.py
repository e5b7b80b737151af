"""The real ``assistant`` command line, run as a subprocess against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-24T10:00:00-08:00"  # Tuesday, office open (the clock fixture's instant)


def assistant(
    db_url: str, tmp_path: Path, *args: str, now: str = NOW
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "SMTP_", "IMAP_"))
    }
    env.update(
        DATABASE_URL=db_url,
        ASSISTANT_NOW=now,
        VAR_DIR=str(tmp_path),
        DISTRICT_FILE=str(ROOT / "bot" / "district.yml"),
    )
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
