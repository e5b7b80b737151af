"""The email vocabulary every package shares: drafts, rendering, "Re:", senders, send errors.

A draft is what the outbox stores; :func:`render_email` turns it into the MIME
message (plain text with an escaped HTML alternative); an
:class:`EmailSender` delivers it (SMTP in production, built by the gateway).
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|aw|sv|antw|ref)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


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
