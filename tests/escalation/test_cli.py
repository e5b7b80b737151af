"""``assistant csr ...`` in a subprocess against a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from accounts.db import make_engine, make_sessionmaker
from escalation.auth import LoginFailed, authenticate

ROOT = Path(__file__).resolve().parents[2]


def assistant(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_add_list_password_and_deactivate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = dict(os.environ, DATABASE_URL=url, VAR_DIR=str(tmp_path))
    env.pop("ASSISTANT_NOW", None)
    assert assistant("db", "upgrade", env=env).returncode == 0
    added = assistant(
        "csr",
        "add-user",
        "jdoe",
        "--name",
        "Jo Doe",
        "--level",
        "II",
        "--password-stdin",
        env=env,
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert "correct horse" not in added.stdout + added.stderr
    again = assistant(
        "csr",
        "add-user",
        "jdoe",
        "--name",
        "X",
        "--level",
        "I",
        "--password-stdin",
        env=env,
        stdin="another long password\n",
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    short = assistant("csr", "set-password", "jdoe", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode == 2
    listed = assistant("csr", "list-users", env=env)
    assert "jdoe" in listed.stdout and "CSR II" in listed.stdout
    queue = assistant("csr", "queue", env=env)
    assert queue.returncode == 0 and "Senior" in queue.stdout

    engine = make_engine(url)
    now = datetime(2026, 11, 24, 18, tzinfo=UTC)
    with make_sessionmaker(engine)() as session:
        user = authenticate(
            session=session,
            username="JDoe",
            password="correct horse battery",
            address="t",
            now=now,
        )
        assert user.level == "II" and user.password_hash.startswith("$argon2id$")
        session.commit()
    assert assistant("csr", "deactivate", "jdoe", env=env).returncode == 0
    with make_sessionmaker(engine)() as session, pytest.raises(LoginFailed):
        authenticate(
            session=session,
            username="jdoe",
            password="correct horse battery",
            address="t",
            now=now,
        )
    engine.dispose()
