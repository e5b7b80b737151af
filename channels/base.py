"""The small interface every channel speaks: one inbound message in, bot replies out.

Each channel (SMS, voice, email) turns its provider's request into an
:class:`InboundMessage`, hands it to the common turn in :mod:`channels.relay`
and renders the :class:`BotReply` list its own way (numbered SMS lines, a DTMF
menu, an email body).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Channel = Literal["sms", "voice", "email"]
Language = Literal["en", "es"]


class ChannelError(Exception):
    """A system-side failure on a channel (provider down, bad configuration)."""


class CustomerInputError(ValueError):
    """Input from a customer that the channel cannot use (empty, too long, garbled)."""


class Button(NamedTuple):
    """One choice offered with a reply: what the customer sees and what it sends."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One thing a customer said on a channel.

    Attributes:
        channel: ``"sms"``, ``"voice"`` or ``"email"``.
        sender: The customer's address: E.164 phone number or lowercase email.
        text: What they said or typed (speech transcription on voice).
        external_id: The provider's id for the message (MessageSid, a CallSid-based
            turn id, Message-ID); makes recording idempotent.
        language: ``"en"`` or ``"es"`` when the channel knows it.
        media_urls: MMS media or attachment URLs.
        kind: What the text is: ``"text"``, ``"speech"``, ``"dtmf"``.
        meta: Channel details worth keeping on the contact log (no card data).
    """

    channel: Channel
    sender: str
    text: str
    external_id: str | None = None
    language: Language | None = None
    media_urls: tuple[str, ...] = ()
    kind: str = "text"
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BotReply:
    """One message from the assistant.

    Attributes:
        text: What to say or send (may be empty when only a payload is sent).
        buttons: Choices; SMS renders them as numbered lines, voice as a keypad menu.
        custom: A custom payload such as ``{"type": "pay", "amount": "84.20"}``,
            ``{"type": "handoff", "ticket_id": 12, "summary": "..."}`` or
            ``{"type": "hangup"}``.
    """

    text: str = ""
    buttons: tuple[Button, ...] = ()
    custom: Mapping[str, Any] | None = None

    @property
    def custom_type(self) -> str | None:
        """The ``type`` of the custom payload, if there is one."""
        if self.custom is None:
            return None
        kind = self.custom.get("type")
        return str(kind) if kind is not None else None

    @classmethod
    def from_rasa(cls, message: Mapping[str, Any]) -> BotReply:
        """Build a reply from one message of Rasa's REST channel response.

        Rasa sends ``{"recipient_id", "text", "buttons": [{"title", "payload"}],
        "custom": {...}}``; anything else (images, attachments) is dropped
        because none of our channels can show it reliably.
        """
        text = message.get("text")
        raw_buttons = message.get("buttons") or []
        buttons: list[Button] = []
        if isinstance(raw_buttons, list):
            for item in raw_buttons:
                if isinstance(item, Mapping) and item.get("title") and item.get("payload"):
                    buttons.append(Button(str(item["title"]), str(item["payload"])))
        custom = message.get("custom")
        return cls(
            text=str(text) if isinstance(text, str) else "",
            buttons=tuple(buttons),
            custom=dict(custom) if isinstance(custom, Mapping) else None,
        )


def replies_from_rasa(messages: Sequence[Mapping[str, Any]]) -> list[BotReply]:
    """Convert Rasa's REST response list into replies, skipping empty ones."""
    replies = [BotReply.from_rasa(m) for m in messages if isinstance(m, Mapping)]
    return [r for r in replies if r.text or r.buttons or r.custom is not None]
