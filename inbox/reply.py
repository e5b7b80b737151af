"""Build threaded, loop-safe email replies and send them over SMTP.

A reply carries ``In-Reply-To`` / ``References`` so that the customer's client
threads it, a single ``Re:`` prefix, ``Auto-Submitted: auto-replied`` (RFC
3834) and ``X-Auto-Response-Suppress: All`` (Exchange's out-of-office
suppressor), a plain-text body with an HTML alternative in which every piece of
text is escaped, and the district's signature.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib

from inbox.parse import ParsedEmail

_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|aw|sv|antw|ref)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_MAX_REFERENCES = 20


class SendError(Exception):
    """Sending failed (a system error); ``permanent`` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool, connection: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        # The server could not be reached at all: the next message would fail the same way.
        self.connection = connection


@dataclass(frozen=True)
class ReplyDraft:
    """Everything needed to render and send one reply (stored in the outbox)."""

    to_address: str
    from_address: str
    subject: str
    body_text: str
    headers: dict[str, str] = field(default_factory=dict)


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` without stacking prefixes (``Re: Re: RE:`` → ``Re:``)."""
    base = _REPLY_PREFIX.sub("", subject or "").strip()
    return f"Re: {base}" if base else "Re: your message"


def reply_message_id(*, inbound_message_id: str, domain: str) -> str:
    """A Message-ID derived from the message we answer.

    Deterministic, so a reply that is retried after a crash carries the same
    Message-ID and the customer's client shows it once.
    """
    digest = hashlib.sha256(inbound_message_id.encode("utf-8", "replace")).hexdigest()[:32]
    return f"<reply-{digest}@{domain}>"


def compose_reply(
    parsed: ParsedEmail,
    *,
    to_address: str,
    body: str,
    from_address: str,
    signature: str,
) -> ReplyDraft:
    """A reply to ``parsed``, threaded and marked as automatic.

    Args:
        parsed: The message being answered.
        to_address: Where the answer goes (Reply-To or From, chosen by the caller).
        body: The answer text (plain text; it is escaped for the HTML part).
        from_address: The district's address.
        signature: The district's signature (plain text).
    """
    domain = from_address.rsplit("@", 1)[-1] or "localhost"
    references = [ref for ref in parsed.references if ref != parsed.message_id]
    references.append(parsed.message_id)
    headers = {
        "Message-ID": reply_message_id(inbound_message_id=parsed.message_id, domain=domain),
        "In-Reply-To": parsed.message_id,
        "References": " ".join(references[-_MAX_REFERENCES:]),
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
    }
    text = body.rstrip()
    if signature.strip():
        text = f"{text}\n\n-- \n{signature.strip()}"
    return ReplyDraft(
        to_address=to_address,
        from_address=from_address,
        subject=reply_subject(parsed.subject),
        body_text=text + "\n",
        headers=headers,
    )


def text_to_html(text: str) -> str:
    """An HTML rendering of plain text with everything escaped (no markup gets through)."""
    body, _, signature = text.partition("\n-- \n")
    paragraphs = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    rendered = "".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>\n"
        for p in paragraphs
    )
    if signature.strip():
        lines = "<br>\n".join(html.escape(line) for line in signature.strip().splitlines())
        rendered += f'<p style="color:#555555">--<br>\n{lines}</p>\n'
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif">\n{rendered}</body></html>\n'
    )


def render_email(draft: ReplyDraft, *, html_body: str | None = None) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative and the draft's headers."""
    message = EmailMessage()
    message["From"] = Address(addr_spec=draft.from_address)
    message["To"] = draft.to_address
    message["Subject"] = draft.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    for name, value in draft.headers.items():
        message[name] = value
    message.set_content(draft.body_text)
    message.add_alternative(html_body or text_to_html(draft.body_text), subtype="html")
    return message


SendFunction = Callable[[EmailMessage], Awaitable[None]]


class EmailSender(Protocol):
    """Something that delivers rendered messages (SMTP in production)."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; raise :class:`SendError` when it did not go."""
        ...

    def session(self) -> AbstractAsyncContextManager[SendFunction]:
        """A context in which many messages share one connection."""
        ...


def _send_error(error: Exception) -> SendError:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return SendError(f"recipient refused ({codes})", permanent=permanent)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return SendError(
            f"SMTP {error.code}: {error.message[:120]}", permanent=500 <= error.code < 600
        )
    return SendError(f"SMTP unavailable: {type(error).__name__}", permanent=False, connection=True)


class SmtpSender:
    """Sends with aiosmtplib to the configured SMTP server.

    Args:
        host: SMTP server.
        port: SMTP port.
        username: Login (empty for none).
        password: Password.
        start_tls: Upgrade with STARTTLS.
        timeout: Seconds per SMTP operation.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        start_tls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._timeout = timeout

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self._username or None,
            password=self._password or None,
            start_tls=self._start_tls,
            timeout=self._timeout,
        )

    async def send(self, message: EmailMessage) -> None:
        async with self.session() as send:
            await send(message)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[SendFunction]:
        client: aiosmtplib.SMTP | None = None

        async def send(message: EmailMessage) -> None:
            nonlocal client
            try:
                if client is None or not client.is_connected:
                    client = self._client()
                    await client.connect()
                await client.send_message(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                if isinstance(error, aiosmtplib.SMTPServerDisconnected | OSError):
                    client = None
                raise _send_error(error) from error

        try:
            yield send
        finally:
            if client is not None and client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    await client.quit()
