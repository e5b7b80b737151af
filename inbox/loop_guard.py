"""Mail loop prevention (RFC 3834) and bounce recognition.

Helpdesks that skipped these rules had reply loops and bounce storms; the
rules here are checked before any automatic answer. The per-sender daily cap
needs the database and lives in the worker; this module is pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from inbox.parse import ParsedEmail

# Local parts that are machines, not people.
_SYSTEM_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"bounce[-+].*|auto-?reply|autoresponder|listserv|majordomo|mail-?daemon|"
    r"root|abuse)$",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status notification|has failed|failure)|"
    r"mail delivery (failed|failure|subsystem)|returned mail|failure notice|"
    r"could not be delivered|no se pudo entregar|non remis|unzustellbar)",
    re.I,
)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_ORIGINAL_MARKERS = re.compile(
    r"^(-+ ?(below this line is a copy of the message|this is a copy of the message|"
    r"original message( follows)?|the header of the original message)|"
    r"original message follows|received: )",
    re.I | re.M,
)


@dataclass(frozen=True)
class Bounce:
    """A delivery failure report."""

    kind: str  # "dsn" | "plain"
    failed_recipients: tuple[str, ...]
    permanent: bool


def is_system_address(address: str) -> bool:
    """True for mailer-daemon, postmaster, no-reply and similar machine senders."""
    local = address.split("@", 1)[0]
    return bool(_SYSTEM_LOCALPARTS.match(local))


def _delivery_status_blocks(message: Message) -> list[Message]:
    blocks: list[Message] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            blocks.extend(block for block in payload if isinstance(block, Message))
    return blocks


def _recipient(value: str | None) -> str | None:
    if not value:
        return None
    # "rfc822; user@example.com"
    _, _, address = str(value).rpartition(";")
    address = address.strip().strip("<>").lower()
    return address if "@" in address else None


def detect_bounce(parsed: ParsedEmail, *, own_addresses: Collection[str] = ()) -> Bounce | None:
    """Recognise a delivery status notification or a plain-text bounce.

    Args:
        parsed: The incoming message.
        own_addresses: The district's addresses (never reported as failed).

    Returns:
        The bounce with the addresses that failed permanently, or ``None``
        when the message is not a bounce.
    """
    own = {address.lower() for address in own_addresses}
    message = parsed.message
    report_type = message.get_param("report-type", header="content-type") or ""
    if parsed.content_type == "multipart/report" and str(report_type).lower() == (
        "delivery-status"
    ):
        failed: list[str] = []
        permanent = False
        for block in _delivery_status_blocks(message):
            action = str(block.get("action", "")).strip().lower()
            status = str(block.get("status", "")).strip()
            recipient = _recipient(block.get("final-recipient")) or _recipient(
                block.get("original-recipient")
            )
            if action == "failed" or status.startswith("5"):
                permanent = True
                if recipient and recipient not in own and recipient not in failed:
                    failed.append(recipient)
        return Bounce(kind="dsn", failed_recipients=tuple(failed), permanent=permanent)

    sender = parsed.from_address
    from_machine = bool(sender) and is_system_address(sender)
    empty_return_path = (parsed.header("return-path") or "").strip() in {"<>", ""} and (
        "return-path" in parsed.header_names()
    )
    if not (from_machine or empty_return_path) or not _BOUNCE_SUBJECT.search(parsed.subject):
        return None
    failed = []
    x_failed = parsed.header("x-failed-recipients")
    if x_failed:
        failed.extend(a.lower() for _, a in getaddresses([x_failed]) if "@" in a)
    text = parsed.text
    marker = _ORIGINAL_MARKERS.search(text)
    explanation = text[: marker.start()] if marker else text
    for address in _ADDRESS.findall(explanation):
        address = address.lower()
        if address in own or address == sender or is_system_address(address):
            continue
        if address not in failed:
            failed.append(address)
    return Bounce(kind="plain", failed_recipients=tuple(failed), permanent=True)


def reply_address(parsed: ParsedEmail) -> str:
    """Where an answer goes: Reply-To when given, else From."""
    return parsed.reply_to[0] if parsed.reply_to else parsed.from_address


def should_auto_reply(parsed: ParsedEmail, *, own_addresses: Collection[str]) -> tuple[bool, str]:
    """Whether an automatic answer to ``parsed`` is allowed (RFC 3834 and common sense).

    Args:
        parsed: The incoming message.
        own_addresses: The district's own addresses (lower-case).

    Returns:
        ``(True, "ok")`` or ``(False, reason)`` with a short machine-readable reason.
    """
    own = {address.lower() for address in own_addresses}
    names = parsed.header_names()

    # Bounces first: they also carry Auto-Submitted, but the worker must know it is one.
    if detect_bounce(parsed, own_addresses=own) is not None:
        return False, "bounce"
    auto_submitted = (parsed.header("auto-submitted") or "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return False, "auto-submitted"
    precedence = (parsed.header("precedence") or "").strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return False, "precedence"
    if any(name.startswith("list-") for name in names):
        return False, "list"
    if names & {"x-autoreply", "x-autorespond", "x-auto-reply"}:
        return False, "x-autoreply"
    suppress = (parsed.header("x-auto-response-suppress") or "").lower()
    if any(token.strip() in {"all", "autoreply", "oof"} for token in suppress.split(",")):
        return False, "auto-response-suppressed"
    if "return-path" in names and (parsed.header("return-path") or "").strip() in {"<>", ""}:
        return False, "empty-return-path"
    sender = parsed.from_address
    if not sender:
        return False, "no-sender"
    target = reply_address(parsed)
    for address in {sender, target}:
        if address in own:
            return False, "own-address"
        if is_system_address(address):
            return False, "system-sender"
    loop_marker = (parsed.header("x-loop") or "").lower()
    if loop_marker and any(address in loop_marker for address in own):
        return False, "x-loop"
    return True, "ok"
