"""Buttons on SMS: numbered lines in a reply, and a digit reply back to the chosen payload."""

from __future__ import annotations

import re
from collections.abc import Sequence

from channels.base import Button, Language

_CHOICE_PROMPT = {
    "en": "Reply with a number.",
    "es": "Responda con un número.",
}


def render_buttons(text: str, buttons: Sequence[Button], *, language: Language = "en") -> str:
    """Append buttons to a reply as numbered lines (``1) Pay my bill``)."""
    if not buttons:
        return text
    lines = [text] if text else []
    lines.extend(f"{n}) {button.title}" for n, button in enumerate(buttons, start=1))
    lines.append(_CHOICE_PROMPT.get(language, _CHOICE_PROMPT["en"]))
    return "\n".join(lines)


_DIGIT_REPLY = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


def resolve_choice(text: str, buttons: Sequence[Button]) -> str | None:
    """Map a numeric reply ("2", "2.", "#2") to the payload of the offered button.

    Args:
        text: What the customer replied.
        buttons: The buttons offered in the previous reply, in order.

    Returns:
        The chosen payload, or ``None`` when the reply is not a valid choice.
    """
    match = _DIGIT_REPLY.match(text)
    if match is None or not buttons:
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(buttons):
        return buttons[index].payload
    return None
