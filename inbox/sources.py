"""Where customer email comes from: an IMAP mailbox, or a local Maildir for the demo.

Both sources hand out raw messages keyed by something stable (the IMAP UID or
the Maildir key) and move processed mail into ``Triaged/Answered``,
``Triaged/Escalated`` or ``Triaged/Ignored``. Nothing is ever deleted: on
servers without MOVE, the copy is made before the original is expunged.

The IMAP client is made by a factory passed in, so tests hand in a client for
the local Dovecot and the source can rebuild it after the connection drops.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import mailbox
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError

log = logging.getLogger(__name__)

TRIAGED = "Triaged"

T = TypeVar("T")


class Outcome(StrEnum):
    """Where a processed message ends up."""

    ANSWERED = "answered"
    ESCALATED = "escalated"
    IGNORED = "ignored"

    @property
    def folder_leaf(self) -> str:
        """The sub-folder name under ``Triaged``."""
        return self.value.capitalize()


@dataclass(frozen=True)
class FetchedMail:
    """One message waiting in the source."""

    key: str
    raw: bytes


class MailSourceError(Exception):
    """The mail source failed in a way reconnecting did not fix (a system error)."""


class MailSource(Protocol):
    """A mailbox the worker reads from and files processed mail into."""

    @property
    def name(self) -> str:
        """A stable identifier of the mailbox (used for the lease and idempotency)."""
        ...

    def open(self) -> None:
        """Connect and make sure the Triaged folders exist."""
        ...

    def fetch_pending(self, *, limit: int) -> list[FetchedMail]:
        """Up to ``limit`` messages still in the inbox, oldest first."""
        ...

    def move(self, key: str, outcome: Outcome) -> None:
        """File message ``key`` into the folder for ``outcome`` (never deletes it)."""
        ...

    def move_many(self, keys: Sequence[str], outcome: Outcome) -> None:
        """File several messages into the folder for ``outcome`` at once."""
        ...

    def wait_for_mail(self, timeout: float) -> bool:
        """Block until new mail may be there or ``timeout`` seconds passed."""
        ...

    def close(self) -> None:
        """Disconnect."""
        ...


# ----------------------------------------------------------------------------- IMAP

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    IMAPClientAbortError,
    imaplib.IMAP4.abort,
    OSError,
    socket.timeout,
)


def imap_client_factory(
    *, host: str, port: int, user: str, password: str, ssl: bool, timeout: float = 60.0
) -> Callable[[], IMAPClient]:
    """A factory of logged-in IMAP clients for one mailbox.

    Args:
        host: Server name.
        port: Server port.
        user: Login name.
        password: Password.
        ssl: Implicit TLS (port 993) when true.
        timeout: Socket timeout in seconds.
    """

    def make() -> IMAPClient:
        client = IMAPClient(host, port=port, ssl=ssl, timeout=timeout)
        client.login(user, password)
        return client

    return make


class ImapSource:
    """An IMAP mailbox (imapclient), IDLE when offered, reconnecting after drops.

    Args:
        factory: Makes a new logged-in client (called again after a drop).
        name: Stable identifier of the mailbox.
        folder: The folder customers' mail arrives in.
        use_move: Force MOVE on/off; ``None`` asks the server's capabilities.
        batch_bytes: Fetch bodies in chunks of about this many bytes.
        retries: Reconnect attempts per operation before giving up.
        sleep: Waits between reconnect attempts (injected for tests).
    """

    def __init__(
        self,
        factory: Callable[[], IMAPClient],
        *,
        name: str,
        folder: str = "INBOX",
        use_move: bool | None = None,
        batch_bytes: int = 16 * 1024 * 1024,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._factory = factory
        self._name = name
        self.folder = folder
        self._use_move_override = use_move
        self._batch_bytes = batch_bytes
        self._retries = retries
        self._sleep = sleep
        self._client: IMAPClient | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.separator = "/"
        self.prefix = ""
        self.reconnects = 0

    @property
    def name(self) -> str:
        return self._name

    # -- connection ----------------------------------------------------------

    def _connect(self) -> IMAPClient:
        client = self._factory()
        self.capabilities = frozenset(
            cap.decode() if isinstance(cap, bytes) else str(cap) for cap in client.capabilities()
        )
        self._discover_separator(client)
        for outcome in Outcome:
            folder = self.folder_for(outcome)
            if not client.folder_exists(folder):
                with contextlib.suppress(imaplib.IMAP4.error):
                    client.create_folder(folder)
                with contextlib.suppress(imaplib.IMAP4.error):
                    client.subscribe_folder(folder)
        client.select_folder(self.folder)
        self._client = client
        return client

    def _discover_separator(self, client: IMAPClient) -> None:
        if "NAMESPACE" in self.capabilities:
            try:
                personal = client.namespace().personal
            except imaplib.IMAP4.error:
                personal = None
            if personal:
                prefix, separator = personal[0]
                self.prefix = _text(prefix)
                self.separator = _text(separator) or self.separator
                return
        listing = client.list_folders("", "")
        if listing:
            _flags, separator, _name = listing[0]
            if separator:
                self.separator = _text(separator)

    def folder_for(self, outcome: Outcome) -> str:
        """Full name of the folder for ``outcome`` on this server."""
        return f"{self.prefix}{TRIAGED}{self.separator}{outcome.folder_leaf}"

    def open(self) -> None:
        self._run(lambda client: None)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    def _run(self, operation: Callable[[IMAPClient], T]) -> T:
        delay = 0.5
        last_error: BaseException | None = None
        for attempt in range(self._retries + 1):
            try:
                client = self._client or self._connect()
                return operation(client)
            except _CONNECTION_ERRORS as error:
                last_error = error
                log.warning("IMAP connection lost (%s); reconnecting", type(error).__name__)
                self._drop()
                self.reconnects += 1
                if attempt < self._retries:
                    self._sleep(delay)
                    delay = min(delay * 2, 30.0)
        raise MailSourceError(f"IMAP unavailable after {self._retries} retries") from last_error

    # -- reading ---------------------------------------------------------------

    def fetch_pending(self, *, limit: int) -> list[FetchedMail]:
        return self._run(lambda client: self._fetch(client, limit))

    def _fetch(self, client: IMAPClient, limit: int) -> list[FetchedMail]:
        # NOOP first: a server only shows mail that arrived since the last command
        # after it has told the session about it (EXISTS), which happens on a sync.
        client.noop()
        uids = sorted(client.search(["NOT", "DELETED"]))[:limit]
        if not uids:
            return []
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        result: list[FetchedMail] = []
        for chunk in _chunks(
            uids, {uid: int(sizes[uid][b"RFC822.SIZE"]) for uid in sizes}, self._batch_bytes
        ):
            # BODY.PEEK leaves \Seen alone: a person reading the mailbox still sees it unread.
            data = client.fetch(chunk, ["BODY.PEEK[]"])
            for uid in chunk:
                if uid in data and b"BODY[]" in data[uid]:
                    result.append(FetchedMail(key=str(uid), raw=bytes(data[uid][b"BODY[]"])))
        return result

    # -- filing ----------------------------------------------------------------

    @property
    def uses_move(self) -> bool:
        """Whether moves use the MOVE command (else COPY + \\Deleted + expunge)."""
        if self._use_move_override is not None:
            return self._use_move_override
        return "MOVE" in self.capabilities

    def move(self, key: str, outcome: Outcome) -> None:
        self.move_many([key], outcome)

    def move_many(self, keys: Sequence[str], outcome: Outcome) -> None:
        if keys:
            uids = [int(key) for key in keys]
            self._run(lambda client: self._move(client, uids, self.folder_for(outcome)))

    def _move(self, client: IMAPClient, uids: list[int], folder: str) -> None:
        if self.uses_move:
            client.move(uids, folder)
            return
        # Copy first: if we die between the steps the message exists twice, never zero times.
        client.copy(uids, folder)
        client.add_flags(uids, [b"\\Deleted"])
        if "UIDPLUS" in self.capabilities:
            client.uid_expunge(uids)
        else:
            client.expunge()

    # -- waiting ---------------------------------------------------------------

    def wait_for_mail(self, timeout: float) -> bool:
        return self._run(lambda client: self._idle(client, timeout))

    def _idle(self, client: IMAPClient, timeout: float) -> bool:
        if "IDLE" not in self.capabilities:
            self._sleep(timeout)
            return True
        deadline = time.monotonic() + timeout
        responses: list[object] = []
        client.idle()
        try:
            # Servers send keep-alives ("* OK Still here") that end idle_check early.
            while not _has_new_mail(responses):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                responses.extend(client.idle_check(timeout=remaining))
        finally:
            _text_done, done_responses = client.idle_done()
            responses.extend(done_responses)
        return _has_new_mail(responses)


def _has_new_mail(responses: Sequence[object]) -> bool:
    return any(
        isinstance(item, tuple) and len(item) > 1 and item[1] in {b"EXISTS", b"RECENT"}
        for item in responses
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _chunks(uids: Sequence[int], sizes: dict[int, int], budget: int) -> list[list[int]]:
    chunks: list[list[int]] = []
    current: list[int] = []
    used = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if current and (used + size > budget or len(current) >= 200):
            chunks.append(current)
            current, used = [], 0
        current.append(uid)
        used += size
    if current:
        chunks.append(current)
    return chunks


# ----------------------------------------------------------------------------- Maildir


class MaildirSource:
    """A local Maildir (the demo's inbox); processed mail goes to Maildir++ sub-folders.

    Args:
        path: The Maildir root (created if missing).
        sleep: How to wait between polls (injected for tests).
    """

    def __init__(self, path: Path, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = Path(path)
        self._sleep = sleep
        self._box: mailbox.Maildir | None = None

    @property
    def name(self) -> str:
        return f"maildir:{self.path.resolve()}"

    def folder_for(self, outcome: Outcome) -> str:
        """Maildir++ folder name for ``outcome`` (``.`` separates levels)."""
        return f"{TRIAGED}.{outcome.folder_leaf}"

    def _maildir(self) -> mailbox.Maildir:
        if self._box is None:
            self._box = mailbox.Maildir(self.path, create=True)
        return self._box

    def open(self) -> None:
        box = self._maildir()
        existing = set(box.list_folders())
        for outcome in Outcome:
            if self.folder_for(outcome) not in existing:
                box.add_folder(self.folder_for(outcome))

    def fetch_pending(self, *, limit: int) -> list[FetchedMail]:
        box = self._maildir()
        files: list[tuple[float, str, str]] = []
        for sub in ("new", "cur"):
            directory = self.path / sub
            if not directory.is_dir():
                continue
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    key = entry.name.split(":", 1)[0]
                    files.append((entry.stat().st_mtime, entry.name, key))
        files.sort()
        result: list[FetchedMail] = []
        for _mtime, _name, key in files[:limit]:
            with contextlib.suppress(KeyError):
                result.append(FetchedMail(key=key, raw=box.get_bytes(key)))
        return result

    def move(self, key: str, outcome: Outcome) -> None:
        target = self.path / f".{self.folder_for(outcome)}"
        for sub in ("new", "cur"):
            directory = self.path / sub
            with os.scandir(directory) as entries:
                found = next(
                    (e for e in entries if e.name == key or e.name.startswith(f"{key}:")), None
                )
            if found is not None:
                # A rename is atomic: the message is in exactly one folder at any time.
                os.rename(found.path, target / sub / found.name)
                return
        raise KeyError(key)

    def move_many(self, keys: Sequence[str], outcome: Outcome) -> None:
        for key in keys:
            self.move(key, outcome)

    def wait_for_mail(self, timeout: float) -> bool:
        self._sleep(timeout)
        return True

    def close(self) -> None:
        self._box = None
