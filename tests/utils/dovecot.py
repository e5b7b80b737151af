"""A real Dovecot IMAP server for tests, with its own configuration in a temp dir.

Dovecot refuses to run its login processes as root, so when the tests run as
root the server gets non-root internal and login users (``dovecot`` /
``dovenull``, created by Debian's package) and a non-root mail uid. Users live
in a passwd-file that Dovecot re-reads when it changes, so one server per test
session serves a fresh mailbox user per test.

In CI (``CI=true``) a missing Dovecot fails the test; elsewhere it skips.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.utils.servers import free_port, unavailable

PASSWORD = "test-password"


def find_dovecot() -> str | None:
    """The dovecot binary, if installed."""
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


@dataclass
class DovecotUser:
    """A mailbox on the test server."""

    name: str
    password: str
    host: str
    port: int

    def client(self) -> IMAPClient:
        """A logged-in IMAP client (caller logs out)."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(self.name, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver one message (as raw bytes) into ``folder``."""
        with contextlib.closing(_Logout(self.client())) as session:
            session.client.append(folder, raw)

    def append_many(self, raws: list[bytes], folder: str = "INBOX") -> None:
        """Deliver many messages over one connection."""
        with contextlib.closing(_Logout(self.client())) as session:
            for raw in raws:
                session.client.append(folder, raw)

    def folder_counts(self) -> dict[str, int]:
        """Number of messages per folder."""
        with contextlib.closing(_Logout(self.client())) as session:
            counts = {}
            for flags, _sep, name in session.client.list_folders():
                if b"\\Noselect" in flags:
                    continue
                status = session.client.folder_status(name, ["MESSAGES"])
                counts[name] = int(status[b"MESSAGES"])
            return counts

    def messages(self, folder: str) -> list[bytes]:
        """Raw bytes of every message in ``folder``."""
        with contextlib.closing(_Logout(self.client())) as session:
            session.client.select_folder(folder, readonly=True)
            uids = session.client.search(["ALL"])
            if not uids:
                return []
            data = session.client.fetch(uids, ["BODY.PEEK[]"])
            return [bytes(data[uid][b"BODY[]"]) for uid in sorted(data)]


class _Logout:
    def __init__(self, client: IMAPClient) -> None:
        self.client = client

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()


class DovecotServer:
    """One Dovecot master process listening on a loopback port."""

    def __init__(self, binary: str, *, separator: str = ".") -> None:
        self.binary = binary
        self.separator = separator
        self.host = "127.0.0.1"
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.users_file = self.root / "users"
        self.log_file = self.root / "dovecot.log"
        self.conf = self.root / "dovecot.conf"
        self._pool: list[str] = []

    def _identities(self) -> tuple[str, str, int, int]:
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.geteuid()).pw_name
            return me, me, os.geteuid(), os.getegid()
        internal = "dovecot" if _user_exists("dovecot") else "nobody"
        login = "dovenull" if _user_exists("dovenull") else "nobody"
        mail = pwd.getpwnam("nobody")
        return internal, login, mail.pw_uid, mail.pw_gid

    def start(self) -> None:
        """Write the configuration and start the server; wait until it answers."""
        internal, login, uid, gid = self._identities()
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        # Login and mail processes run as other users: they must traverse our dirs.
        os.chmod(self.root, 0o755)
        os.chown(self.root / "mail", uid, gid) if os.geteuid() == 0 else None
        self.users_file.write_text("")
        # Users exist before the server starts: the passwd-file is only re-read once a second.
        self._pool = self._write_users(100)
        self.log_file.touch()
        self.conf.write_text(
            f"""
protocols = imap
listen = {self.host}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log_file}
info_log_path = {self.log_file}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = {min(uid, 500)}
first_valid_gid = {min(gid, 500)}
mail_location = maildir:{self.root}/mail/%u
mail_fsync = never
mail_max_userip_connections = 200
imap_idle_notify_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = {self.separator}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users_file}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
"""
        )
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"dovecot exited: {output}\n{self.log_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on {self.port}\n{self.log_text()}")

    def log_text(self) -> str:
        """The server's log (for failure messages)."""
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def add_user(self) -> DovecotUser:
        """A new, empty mailbox."""
        if not self._pool:
            # Dovecot re-reads the passwd-file at most once a second; wait that out.
            self._pool = self._write_users(20)
            time.sleep(1.1)
        name = self._pool.pop(0)
        return DovecotUser(name=name, password=PASSWORD, host=self.host, port=self.port)

    def _write_users(self, count: int) -> list[str]:
        names = [f"u{uuid.uuid4().hex[:12]}" for _ in range(count)]
        with self.users_file.open("a") as handle:
            handle.writelines(f"{name}:{{PLAIN}}{PASSWORD}::::::\n" for name in names)
        return names

    def kick(self, user: DovecotUser) -> None:
        """Disconnect every session of ``user`` (to test reconnecting)."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run(
            [doveadm, "-c", str(self.conf), "kick", user.name],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def running_dovecot(*, separator: str = ".") -> Iterator[DovecotServer]:
    """Start Dovecot for the duration of the block (skip/fail when missing)."""
    binary = find_dovecot()
    if binary is None:
        unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
        raise AssertionError("unreachable")
    server = DovecotServer(binary, separator=separator)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """One Dovecot per test session."""
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: DovecotServer) -> DovecotUser:
    """A fresh, empty mailbox on the session's Dovecot."""
    return dovecot_server.add_user()
