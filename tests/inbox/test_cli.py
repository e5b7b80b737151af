"""``assistant inbox poll --once`` and ``assistant inbox run`` as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import MailboxLease, ProcessedEmail
from tests.inbox import corpus
from tests.utils.dovecot import DovecotUser
from tests.utils.servers import free_port
from tests.utils.smtp_server import SmtpTestServer

pytestmark = pytest.mark.dovecot

ROOT = Path(__file__).resolve().parents[2]
ASSISTANT = Path(sys.executable).parent / "assistant"


def _env(db_url: str, tmp_path: Path, dovecot: DovecotUser, smtp: SmtpTestServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAP_", "SMTP_", "RASA_"))}
    env.update(
        DATABASE_URL=db_url,
        VAR_DIR=str(tmp_path / "var"),
        DISTRICT_FILE=str(ROOT / "bot" / "district.yml"),
        IMAP_HOST=dovecot.host,
        IMAP_PORT=str(dovecot.port),
        IMAP_USER=dovecot.name,
        IMAP_PASSWORD=dovecot.password,
        IMAP_SSL="false",
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_STARTTLS="false",
        RASA_URL=f"http://127.0.0.1:{free_port()}",  # nobody there: the NLU is down
    )
    return env


def test_poll_once(
    seeded: Session,
    db_url: str,
    tmp_path: Path,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
) -> None:
    env = _env(db_url, tmp_path, dovecot, smtp_server)
    # Machine mail needs no NLU: it is filed without an answer.
    dovecot.append_many([corpus.auto_reply(), corpus.bounce_dsn()])
    done = subprocess.run(
        [str(ASSISTANT), "inbox", "poll", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "2 triaged" in done.stdout
    assert dovecot.folder_counts()["Triaged.Ignored"] == 2

    # A customer question with the NLU down: exit 1, the mail stays for the next pass.
    dovecot.append(corpus.plain())
    done = subprocess.run(
        [str(ASSISTANT), "inbox", "poll", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Rasa" in done.stderr
    assert dovecot.folder_counts()["INBOX"] == 1
    seeded.rollback()
    assert seeded.scalar(select(func.count()).select_from(ProcessedEmail)) == 2
    assert seeded.scalar(select(func.count()).select_from(MailboxLease)) == 0  # released


def test_run_takes_the_lease_and_stops_on_sigterm(
    seeded: Session,
    db_url: str,
    tmp_path: Path,
    dovecot: DovecotUser,
    smtp_server: SmtpTestServer,
) -> None:
    env = _env(db_url, tmp_path, dovecot, smtp_server)
    process = subprocess.Popen(
        [str(ASSISTANT), "inbox", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        dovecot.append(corpus.auto_reply())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if dovecot.folder_counts().get("Triaged.Ignored") == 1:
                break
            time.sleep(0.2)
        assert dovecot.folder_counts().get("Triaged.Ignored") == 1
        seeded.rollback()
        assert seeded.scalar(select(func.count()).select_from(MailboxLease)) == 1
        # New mail while it idles is picked up (IDLE).
        dovecot.append(corpus.bounce_plain())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and dovecot.folder_counts()["Triaged.Ignored"] < 2:
            time.sleep(0.2)
        assert dovecot.folder_counts()["Triaged.Ignored"] == 2
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            assert process.stdout and process.stderr
            process.stdout.close()
            process.stderr.close()
    assert process.returncode == 0
    seeded.rollback()
    assert seeded.scalar(select(func.count()).select_from(MailboxLease)) == 0
