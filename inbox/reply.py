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
from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib

from accounts.email_message import ReplyDraft, SendError, SendFunction, reply_subject
from inbox.parse import ParsedEmail

_MAX_REFERENCES = 20


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
