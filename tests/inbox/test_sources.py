"""Mail sources against a real Dovecot (IMAP) and a real Maildir."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox.sources import (
    FetchedMail,
    ImapSource,
    MaildirSource,
    MailSource,
    MailSourceError,
    Outcome,
    imap_client_factory,
)
from tests.inbox import corpus
from tests.inbox.harness import imap_source
from tests.utils.dovecot import DovecotServer, DovecotUser, running_dovecot
from tests.utils.servers import free_port

pytestmark = pytest.mark.dovecot


def _source(user: DovecotUser, **kwargs: bool | None) -> ImapSource:
    return imap_source(user, **kwargs)


@pytest.fixture
def imap(dovecot: DovecotUser) -> Iterator[ImapSource]:
    source = _source(dovecot)
    source.open()
    yield source
    source.close()


def test_imap_source_is_a_mail_source(imap: ImapSource) -> None:
    source: MailSource = imap
    assert source.name.startswith("imap://")


def test_capabilities_and_folders_created(imap: ImapSource, dovecot: DovecotUser) -> None:
    assert {"IDLE", "MOVE", "UIDPLUS"} <= imap.capabilities
    assert imap.separator == "."
    assert imap.folder_for(Outcome.ANSWERED) == "Triaged.Answered"
    counts = dovecot.folder_counts()
    assert {"Triaged.Answered", "Triaged.Escalated", "Triaged.Ignored"} <= set(counts)


def test_separator_from_server_namespace() -> None:
    with running_dovecot(separator="/") as server:
        user = server.add_user()
        source = _source(user)
        source.open()
        try:
            assert source.separator == "/"
            assert source.folder_for(Outcome.ESCALATED) == "Triaged/Escalated"
            assert "Triaged/Escalated" in user.folder_counts()
        finally:
            source.close()


def test_fetch_oldest_first_without_marking_seen(imap: ImapSource, dovecot: DovecotUser) -> None:
    dovecot.append_many([corpus.plain(message_id=f"<m{i}@x.example>") for i in range(3)])
    fetched = imap.fetch_pending(limit=2)
    assert [f.raw for f in fetched] == [
        corpus.plain(message_id=f"<m{i}@x.example>") for i in range(2)
    ]
    assert all(isinstance(f, FetchedMail) and f.key.isdigit() for f in fetched)
    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search(["UNSEEN"])) == 3
    finally:
        client.logout()


def test_move_with_move_command(imap: ImapSource, dovecot: DovecotUser) -> None:
    dovecot.append(corpus.plain())
    (item,) = imap.fetch_pending(limit=10)
    imap.move(item.key, Outcome.ANSWERED)
    counts = dovecot.folder_counts()
    assert counts["INBOX"] == 0 and counts["Triaged.Answered"] == 1
    assert dovecot.messages("Triaged.Answered") == [corpus.plain()]
    assert imap.fetch_pending(limit=10) == []


def test_move_fallback_copy_delete_uid_expunge(dovecot: DovecotUser) -> None:
    source = _source(dovecot, use_move=False)
    source.open()
    try:
        assert not source.uses_move
        dovecot.append_many(
            [corpus.plain(message_id="<keep@x>"), corpus.plain(message_id="<go@x>")]
        )
        # Another client has flagged the first \Deleted without expunging: UID EXPUNGE
        # must leave it alone (a plain EXPUNGE would destroy it).
        other = dovecot.client()
        other.select_folder("INBOX")
        first_uid = min(other.search(["ALL"]))
        other.add_flags([first_uid], [b"\\Deleted"])
        other.logout()
        pending = source.fetch_pending(limit=10)
        assert len(pending) == 1  # \Deleted mail is not pending
        source.move(pending[0].key, Outcome.IGNORED)
        counts = dovecot.folder_counts()
        assert counts["Triaged.Ignored"] == 1
        assert counts["INBOX"] == 1  # the other client's \Deleted message survived
    finally:
        source.close()


def test_idle_wakes_up_on_new_mail(imap: ImapSource, dovecot: DovecotUser) -> None:
    timer = threading.Timer(0.5, lambda: dovecot.append(corpus.plain()))
    timer.start()
    # Without the new mail the wait would end at the timeout with False.
    woke = imap.wait_for_mail(timeout=30)
    timer.join()
    assert woke
    assert len(imap.fetch_pending(limit=10)) == 1


def test_idle_times_out_without_mail(imap: ImapSource) -> None:
    assert imap.wait_for_mail(timeout=1) is False
    assert imap.fetch_pending(limit=10) == []


def test_reconnects_after_server_drops_connection(
    imap: ImapSource, dovecot: DovecotUser, dovecot_server: DovecotServer
) -> None:
    dovecot.append(corpus.plain())
    assert len(imap.fetch_pending(limit=10)) == 1
    dovecot_server.kick(dovecot)
    (item,) = imap.fetch_pending(limit=10)
    assert imap.reconnects >= 1
    imap.move(item.key, Outcome.ESCALATED)
    assert dovecot.folder_counts()["Triaged.Escalated"] == 1


def test_big_message_round_trip(imap: ImapSource, dovecot: DovecotUser) -> None:
    raw = corpus.big_attachment()
    dovecot.append(raw)
    (item,) = imap.fetch_pending(limit=10)
    assert item.raw == raw


# ----------------------------------------------------------------------------- Maildir


def _deliver(path: Path, raw: bytes) -> None:
    import mailbox

    mailbox.Maildir(path, create=True).add(raw)


def test_maildir_fetch_and_move(tmp_path: Path) -> None:
    path = tmp_path / "maildir"
    source = MaildirSource(path, sleep=lambda _s: None)
    source.open()
    for sub in ("Triaged.Answered", "Triaged.Escalated", "Triaged.Ignored"):
        assert (path / f".{sub}" / "cur").is_dir()
    _deliver(path, corpus.plain(message_id="<a@x>"))
    time.sleep(0.01)
    _deliver(path, corpus.plain(message_id="<b@x>"))
    items = source.fetch_pending(limit=10)
    assert [parse_id(i.raw) for i in items] == ["<a@x>", "<b@x>"]
    source.move(items[0].key, Outcome.ESCALATED)
    assert [parse_id(i.raw) for i in source.fetch_pending(limit=10)] == ["<b@x>"]
    moved = list((path / ".Triaged.Escalated" / "new").iterdir())
    assert len(moved) == 1 and moved[0].read_bytes() == corpus.plain(message_id="<a@x>")
    with pytest.raises(KeyError):
        source.move(items[0].key, Outcome.ANSWERED)


def parse_id(raw: bytes) -> str:
    from inbox.parse import parse_email

    return parse_email(raw).message_id


def test_unreachable_server_is_a_source_error_after_retries() -> None:
    waits: list[float] = []
    factory = imap_client_factory(
        host="127.0.0.1", port=free_port(), user="x", password="y", ssl=False, timeout=2
    )
    source = ImapSource(factory, name="imap://nowhere", retries=3, sleep=waits.append)
    with pytest.raises(MailSourceError):
        source.fetch_pending(limit=1)
    assert waits == [0.5, 1.0, 2.0]  # backoff between reconnect attempts
    assert source.reconnects == 4
