"""Turn raw customer email into a :class:`ParsedEmail`, surviving whatever arrives.

Uses the standard library's modern email API (``policy.default``). Real mail is
messy: declared charsets that are wrong or unknown, raw 8-bit bytes in headers,
no Message-ID, HTML-only bodies with scripts, attachments nested three
multiparts deep, forwarded chains. Every header and body access here has a
fallback so that one odd message never stops the inbox.

The full text is kept (for the ticket and the contact log); ``new_text`` is the
part the customer just wrote, without quoted replies and signatures, which is
what classification should look at.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

_FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")


@dataclass(frozen=True)
class Attachment:
    """A file that came with the message.

    ``stored_path`` is set when the file was written to the caller's
    directory; attachments over the size cap keep only their metadata.
    """

    filename: str
    content_type: str
    size: int
    sha256: str
    stored_path: str | None = None
    over_cap: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (for ``Ticket.attachments``)."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "stored_path": self.stored_path,
            "over_cap": self.over_cap,
        }


@dataclass(frozen=True)
class ForwardedMessage:
    """A message the sender forwarded (attached as message/rfc822 or inline)."""

    from_address: str
    subject: str
    text: str


@dataclass(frozen=True)
class ParsedEmail:
    """Everything triage needs from one email."""

    message_id: str
    message_id_synthesized: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str
    from_name: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    content_type: str
    text: str
    html: str | None
    new_text: str
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ForwardedMessage, ...]
    is_forwarded: bool
    size: int
    defects: tuple[str, ...]
    message: EmailMessage = field(repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), decoded."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_names(self) -> set[str]:
        """Lower-cased names of every header present."""
        return {key.lower() for key, _ in self.headers}

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message replies to (In-Reply-To first, then References)."""
        ids: list[str] = []
        if self.in_reply_to:
            ids.append(self.in_reply_to)
        ids.extend(ref for ref in reversed(self.references) if ref not in ids)
        return tuple(ids)

    @property
    def classification_text(self) -> str:
        """Subject plus what the sender wrote (the forwarded text when they wrote nothing)."""
        body = self.new_text.strip()
        if self.forwarded:
            # A forward's own note is usually "FYI"; the request is in what was forwarded.
            forwarded = _strip_quotes_and_signature(self.forwarded[0].text)
            body = f"{body}\n{forwarded}".strip()
        subject = _SUBJECT_PREFIX.sub("", self.subject).strip()
        if body and self.is_reply:
            # A reply's subject is the old topic (often our own answer's): classifying
            # it with "Thanks, that's all" made a thank-you read as a complaint.
            return body
        return "\n".join(part for part in (subject, body) if part)

    @property
    def is_reply(self) -> bool:
        """A reply to an earlier message (In-Reply-To, or a ``Re:`` subject)."""
        return self.in_reply_to is not None or bool(_REPLY_PREFIX.match(self.subject))


# --------------------------------------------------------------------------- headers


def _raw_header_bytes_to_text(value: str) -> str:
    """Decode a header the parser left with surrogate-escaped 8-bit bytes."""
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return value
    for charset in _FALLBACK_CHARSETS:
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(charset)
    return data.decode("latin-1")  # pragma: no cover - latin-1 never fails


def _decode_raw_header(value: str) -> str:
    """RFC 2047 decoding with fallbacks for unknown charsets and raw 8-bit bytes."""
    value = _raw_header_bytes_to_text(value)
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, AssertionError):
        parts = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, str):
                parts.append(chunk)
                continue
            parts.append(_decode_bytes(chunk, charset))
        return "".join(parts)


def _safe_headers(message: Message) -> list[tuple[str, str]]:
    # decode_header/make_header is several times cheaper than the policy's header
    # objects and, with the 8-bit fallback above, survives more broken input.
    headers: list[tuple[str, str]] = []
    for name, raw in message.raw_items():
        try:
            value = _decode_raw_header(str(raw))
        except Exception:
            value = str(raw).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        headers.append((name, " ".join(value.split())))
    return headers


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def _all(headers: list[tuple[str, str]], name: str) -> list[str]:
    lowered = name.lower()
    return [value for key, value in headers if key.lower() == lowered]


_MSGID = re.compile(r"<([^<>\s]+)>")


MAX_MESSAGE_ID = 250


def _bounded(message_id: str) -> str:
    # Storage columns hold 254 characters; a longer id becomes a hash of itself, the
    # same on every message that mentions it, so threading still matches.
    if len(message_id) <= MAX_MESSAGE_ID:
        return message_id
    return (
        f"<long-{hashlib.sha256(message_id.encode('utf-8', 'replace')).hexdigest()}@inbox.invalid>"
    )


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = [f"<{m}>" for m in _MSGID.findall(value)]
    if not found and value.strip() and "@" in value:
        found = [f"<{value.strip().strip('<>')}>"]
    return [_bounded(found_id) for found_id in found]


def _addresses(values: list[str]) -> tuple[str, ...]:
    result: list[str] = []
    for _name, address in getaddresses(values):
        address = address.strip().lower()
        if "@" in address and address not in result:
            result.append(address)
    return tuple(result)


def _synthesize_message_id(raw: bytes) -> str:
    # Stable across fetches of the same bytes, so idempotency still works.
    return f"<synth-{hashlib.sha256(raw).hexdigest()[:32]}@inbox.invalid>"


# --------------------------------------------------------------------------- bodies


def _decode_bytes(data: bytes, charset: str | None) -> str:
    candidates = ([charset] if charset else []) + list(_FALLBACK_CHARSETS)
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1", errors="replace")  # pragma: no cover


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        charset = part.get_content_charset()
        # us-ascii is the default when nothing is declared; real mail lies about it.
        if charset in {"us-ascii", "ascii"}:
            charset = None
        return _decode_bytes(payload, charset)
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, list) and raw:
        inner = raw[0]
        if isinstance(inner, Message):
            return inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    return b""


class _HtmlToText(HTMLParser):
    """HTML to readable text: no scripts or styles, links keep their text and target."""

    _SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "tr",
            "table",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "hr",
            "pre",
            "address",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skip_depth = 0
        self._quote_depth = 0
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
            return
        if tag == "br" or tag in self._BLOCK:
            self._out.append("\n")
        elif tag == "li":
            self._out.append("\n- ")
        elif tag in {"td", "th"}:
            self._out.append(" ")
        elif tag == "blockquote":
            self._quote_depth += 1
            self._out.append("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((href, len(self._out)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag in self._BLOCK:
            self._out.append("\n")
        elif tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
            self._out.append("\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self._out[start:]).strip()
            if href.lower().startswith(("http://", "https://")) and href not in text:
                self._out.append(f" ({href})")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in {"br", "hr"}:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        text = re.sub(r"\s+", " ", data)
        if self._quote_depth and text.strip():
            # Quoted HTML becomes "> " lines so reply stripping treats both formats alike.
            text = "\n" + "> " * self._quote_depth + text.strip() + "\n"
        self._out.append(text)

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self._out).splitlines()]
        cleaned: list[str] = []
        for line in lines:
            if not line and (not cleaned or not cleaned[-1]):
                continue
            cleaned.append(line)
        return "\n".join(cleaned).strip()


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML body (scripts and styles dropped)."""
    parser = _HtmlToText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return parser.text()


# --------------------------------------------------------------------------- quotes


_REPLY_PREFIX = re.compile(r"^\s*(?:re|rv|res|aw|sv)\s*(?:\[\d+\])?\s*:", re.I)
_SUBJECT_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|rv|res|tr|aw|wg)\s*(?:\[\d+\])?\s*:\s*)+", re.I)

_QUOTE_HEADER_PATTERNS = [
    re.compile(r"^on\b.{0,300}\bwrote:\s*$", re.I),
    re.compile(r"^el\b.{0,300}\bescribi[oó]:\s*$", re.I),
    re.compile(r"^le\b.{0,300}\ba écrit\s*:\s*$", re.I),
    re.compile(r"^-{2,}\s*original message\s*-{2,}\s*$", re.I),
    re.compile(r"^-{2,}\s*mensaje original\s*-{2,}\s*$", re.I),
    re.compile(r"^-{2,}\s*forwarded message\s*-{2,}\s*$", re.I),
    re.compile(r"^-{2,}\s*mensaje reenviado\s*-{2,}\s*$", re.I),
    re.compile(r"^begin forwarded message:\s*$", re.I),
    re.compile(r"^inicio del mensaje reenviado:\s*$", re.I),
    re.compile(r"^_{10,}\s*$"),
]
_FORWARD_MARKERS = [
    re.compile(r"^-{2,}\s*forwarded message\s*-{2,}\s*$", re.I | re.M),
    re.compile(r"^-{2,}\s*mensaje reenviado\s*-{2,}\s*$", re.I | re.M),
    re.compile(r"^begin forwarded message:\s*$", re.I | re.M),
    re.compile(r"^inicio del mensaje reenviado:\s*$", re.I | re.M),
]
# Outlook puts a header block instead of a marker: From:/Sent:/To:/Subject:
# (De:/Enviado:/Para:/Asunto: in Spanish).
_OUTLOOK_FROM = re.compile(r"^\*?(from|de)\s*:\*?\s", re.I)
_OUTLOOK_NEXT = re.compile(
    r"^\*?(sent|date|to|subject|cc|enviado(?: el)?|fecha|para|asunto)\s*:", re.I
)
_SIGNATURE_PATTERNS = [
    re.compile(r"^--\s?$"),
    re.compile(r"^sent from my\b", re.I),
    re.compile(r"^sent from (?:mail|outlook|yahoo)\b", re.I),
    re.compile(r"^get outlook for\b", re.I),
    re.compile(r"^enviado desde mi\b", re.I),
    re.compile(r"^obtener outlook para\b", re.I),
]


def _strip_quotes_and_signature(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if any(p.match(stripped) for p in _QUOTE_HEADER_PATTERNS):
            break
        # "On <date>, <name> <address>\nwrote:" splits over two lines in some clients.
        if index + 1 < len(lines) and stripped.lower().startswith(("on ", "el ", "le ")):
            joined = f"{stripped} {lines[index + 1].strip()}"
            if any(p.match(joined) for p in _QUOTE_HEADER_PATTERNS[:3]):
                break
        if _OUTLOOK_FROM.match(stripped):
            following = [nxt.strip() for nxt in lines[index + 1 : index + 5] if nxt.strip()]
            if sum(1 for nxt in following if _OUTLOOK_NEXT.match(nxt)) >= 2:
                break
        if any(p.match(stripped) for p in _SIGNATURE_PATTERNS):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def strip_reply(text: str) -> str:
    """What the sender wrote themselves: quoted replies and signatures removed."""
    return _strip_quotes_and_signature(text)


# --------------------------------------------------------------------------- structure


def _walk(message: Message) -> Iterator[Message]:
    """Every leaf part, not descending into attached messages."""
    if message.get_content_type() == "message/rfc822":
        yield message
        return
    if message.is_multipart():
        payload = message.get_payload()
        if isinstance(payload, list):
            for part in payload:
                if isinstance(part, Message):
                    yield from _walk(part)
        return
    yield message


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    if part.get_filename():
        return True
    return part.get_content_maintype() not in {"text", "multipart"}


def _safe_filename(name: str, fallback: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .")
    return (name or fallback)[:120]


def _pick_bodies(message: Message) -> tuple[Message | None, Message | None]:
    plain: Message | None = None
    rich: Message | None = None
    if isinstance(message, EmailMessage):
        with contextlib.suppress(Exception):
            plain = message.get_body(preferencelist=("plain",))
        with contextlib.suppress(Exception):
            rich = message.get_body(preferencelist=("html",))
    if plain is None and rich is None:
        for part in _walk(message):
            if part.get_content_disposition() == "attachment":
                continue
            ctype = part.get_content_type()
            if ctype == "text/plain" and plain is None:
                plain = part
            elif ctype == "text/html" and rich is None:
                rich = part
    return plain, rich


def _forwarded_from_part(part: Message) -> ForwardedMessage | None:
    payload = part.get_payload()
    inner: Message | None = None
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
    elif isinstance(payload, str | bytes):
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else payload
        inner = BytesParser(policy=policy.default).parsebytes(data)
    if inner is None:
        return None
    headers = _safe_headers(inner)
    plain, rich = _pick_bodies(inner)
    text = _normalize_newlines(_part_text(plain)) if plain is not None else ""
    if not text.strip() and rich is not None:
        text = html_to_text(_part_text(rich))
    sender = _addresses(_all(headers, "from"))
    return ForwardedMessage(
        from_address=sender[0] if sender else "",
        subject=_first(headers, "subject") or "",
        text=text.strip(),
    )


_INLINE_FROM = re.compile(r"^\*?(?:from|de)\s*:\*?\s*(.+)$", re.I | re.M)
_INLINE_SUBJECT = re.compile(r"^\*?(?:subject|asunto)\s*:\*?\s*(.+)$", re.I | re.M)


def _inline_forwards(text: str) -> list[ForwardedMessage]:
    found: list[ForwardedMessage] = []
    for marker in _FORWARD_MARKERS:
        match = marker.search(text)
        if match is None:
            continue
        rest = text[match.end() :].strip("\n")
        sender_match = _INLINE_FROM.search(rest[:2000])
        subject_match = _INLINE_SUBJECT.search(rest[:2000])
        # The forwarded body starts after its header block's first blank line.
        body = rest.split("\n\n", 1)[1] if "\n\n" in rest else rest
        sender = _addresses([sender_match.group(1)]) if sender_match else ()
        found.append(
            ForwardedMessage(
                from_address=sender[0] if sender else "",
                subject=subject_match.group(1).strip() if subject_match else "",
                text=body.strip(),
            )
        )
        break
    return found


def parse_email(
    raw: bytes,
    *,
    attachment_dir: Path | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> ParsedEmail:
    """Parse one raw message.

    Args:
        raw: The message exactly as the mail server returned it.
        attachment_dir: Where to store attachments (created if missing);
            ``None`` lists them without storing.
        max_attachment_bytes: Attachments larger than this keep metadata only.

    Returns:
        The parsed email. Never raises for malformed input.
    """
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    message: EmailMessage = parsed
    headers = _safe_headers(message)

    message_ids = _message_ids(_first(headers, "message-id"))
    synthesized = not message_ids
    message_id = message_ids[0] if message_ids else _synthesize_message_id(raw)
    in_reply_to_ids = _message_ids(_first(headers, "in-reply-to"))
    references = tuple(ref for value in _all(headers, "references") for ref in _message_ids(value))

    from_values = _all(headers, "from")
    from_addresses = _addresses(from_values)
    from_name = ""
    if from_values:
        with contextlib.suppress(Exception):
            from_name = getaddresses(from_values)[0][0]

    date: datetime | None = None
    date_value = _first(headers, "date")
    if date_value:
        with contextlib.suppress(Exception):
            date = parsedate_to_datetime(date_value)

    plain_part, html_part = _pick_bodies(message)
    html_text = _part_text(html_part) if html_part is not None else None
    text = _normalize_newlines(_part_text(plain_part)).strip() if plain_part is not None else ""
    if not text and html_text:
        text = html_to_text(html_text)

    attachments: list[Attachment] = []
    forwarded: list[ForwardedMessage] = []
    body_parts = {id(plain_part), id(html_part)}
    used_names: set[str] = set()
    for index, part in enumerate(_walk(message)):
        if id(part) in body_parts:
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            forward = _forwarded_from_part(part)
            if forward is not None:
                forwarded.append(forward)
        if not _is_attachment(part) and ctype != "message/rfc822":
            continue
        if ctype == "message/delivery-status":
            continue
        data = _payload_bytes(part)
        filename_raw = ""
        with contextlib.suppress(Exception):
            filename_raw = part.get_filename() or ""
        default_ext = mimetypes.guess_extension(ctype) or ".bin"
        if ctype == "message/rfc822":
            default_ext = ".eml"
        filename = _safe_filename(
            _decode_raw_header(filename_raw), f"attachment-{index}{default_ext}"
        )
        digest = hashlib.sha256(data).hexdigest()
        over_cap = len(data) > max_attachment_bytes
        stored: str | None = None
        if attachment_dir is not None and not over_cap:
            attachment_dir.mkdir(parents=True, exist_ok=True)
            stored_name = filename
            if stored_name in used_names:
                stored_name = f"{digest[:8]}-{filename}"
            used_names.add(stored_name)
            path = attachment_dir / stored_name
            path.write_bytes(data)
            stored = str(path)
        attachments.append(
            Attachment(
                filename=filename,
                content_type=ctype,
                size=len(data),
                sha256=digest,
                stored_path=stored,
                over_cap=over_cap,
            )
        )

    subject = _first(headers, "subject") or ""
    if not forwarded:
        forwarded = _inline_forwards(text)
    is_forwarded = bool(forwarded) or bool(re.match(r"^\s*(fwd?|rv|tr|wg)\s*:", subject, re.I))

    return ParsedEmail(
        message_id=message_id,
        message_id_synthesized=synthesized,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=references,
        subject=subject,
        from_address=from_addresses[0][:254] if from_addresses else "",
        from_name=from_name,
        reply_to=_addresses(_all(headers, "reply-to")),
        to=_addresses(_all(headers, "to")),
        cc=_addresses(_all(headers, "cc")),
        date=date,
        headers=tuple(headers),
        content_type=message.get_content_type(),
        text=text,
        html=html_text,
        new_text=_strip_quotes_and_signature(text),
        attachments=tuple(attachments),
        forwarded=tuple(forwarded),
        is_forwarded=is_forwarded,
        size=len(raw),
        defects=tuple(type(defect).__name__ for defect in message.defects),
        message=message,
    )
