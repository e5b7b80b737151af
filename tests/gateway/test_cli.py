from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _assistant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    result = _assistant("db", "upgrade", env=env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "cannot use the database" in lines[0] and "Traceback" not in result.stderr


def test_cli_migrates_and_seeds_then_refuses_real_data(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               VAR_DIR=str(tmp_path))
    assert _assistant("db", "upgrade", env=env).returncode == 0
    seeded = _assistant("seed", "--demo", "--today", "2026-11-24", "--accounts", "20", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "25 accounts" in seeded.stdout
    assert "nothing to do" in _assistant("seed", "--demo", env=env).stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("UPDATE csr_users SET is_demo = 0")
    refused = _assistant("seed", "--demo", env=env)
    assert refused.returncode == 3 and "refused" in refused.stderr
    assert _assistant("seed", "--demo", "--replace-existing-data", "--accounts", "5",
                      env=env).returncode == 0


def test_migrations_upgrade_an_existing_database_without_loss(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'old.db'}")
    assert _assistant("db", "upgrade", env=env).returncode == 0
    assert _assistant("seed", "--demo", "--accounts", "3", env=env).returncode == 0
    again = _assistant("db", "upgrade", env=env)
    assert again.returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT count(*) FROM accounts").fetchone()[0] == 8
