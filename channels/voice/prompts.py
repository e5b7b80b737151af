"""What the call says next, and the input it then expects.

Each function renders one kind of prompt and saves what goes with it on the
call's state — the mode (what a keypad press will mean), the offered buttons,
the prompt to say again after a silence — and takes the next turn number for
the URLs it points to.
"""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Conversation
from channels.base import Button
from channels.deps import ChannelServices
from channels.relay import TurnResult
from channels.twiml import render_handoff, render_voice, say
from channels.voice.copy import text
from channels.voice.render import handoff_route, pay_settings, prompt, voice_urls
from channels.voice.state import Mode, load_state, next_turn, save_state


def menu(
    services: ChannelServices, conversation: Conversation, *, before: Sequence[str] = ()
) -> str:
    """The main keypad menu (after ``before``)."""
    return _offer(
        services,
        conversation,
        mode="menu",
        line=text(conversation.language, "menu"),
        before=before,
        num_digits=1,
    )


def service_menu(services: ChannelServices, conversation: Conversation) -> str:
    """The start/stop-service menu (keypad 4 on the main menu)."""
    return _offer(
        services,
        conversation,
        mode="service",
        line=text(conversation.language, "service_menu"),
        num_digits=1,
    )


def anything_else(
    services: ChannelServices, conversation: Conversation, *, before: Sequence[str] = ()
) -> str:
    """Ask whether there is anything else (after ``before``); the answer goes to the assistant."""
    return _offer(
        services,
        conversation,
        mode="rasa",
        line=text(conversation.language, "anything_else"),
        before=before,
    )


def reprompt(
    services: ChannelServices, conversation: Conversation, *, before: Sequence[str]
) -> str:
    """Say ``before`` then repeat the last prompt with the same input mode."""
    state = load_state(conversation)
    lines = [str(p) for p in state.get("prompt") or []]
    mode = state.get("mode", "menu")
    single = mode in ("menu", "service") or bool(state.get("buttons"))
    n = next_turn(conversation)
    return prompt(
        [*before, *lines],
        language=conversation.language,
        action=voice_urls(services, n).gather,
        num_digits=1 if single else None,
    )


def handoff(
    services: ChannelServices,
    conversation: Conversation,
    *,
    before: Sequence[str],
    ticket_id: int | None,
) -> str:
    """Say ``before``, then transfer to a person (office open) or take a voicemail."""
    language = conversation.language
    response = VoiceResponse()
    for line in before:
        say(response, line, language)
    n = next_turn(conversation)
    render_handoff(
        response,
        language=language,
        urls=voice_urls(services, n),
        handoff=handoff_route(services, language),
        ticket_id=ticket_id,
    )
    state = load_state(conversation)
    state["mode"] = "handoff"
    save_state(conversation, state)
    return str(response)


def assistant_turn(services: ChannelServices, result: TurnResult) -> str:
    """The assistant's replies as TwiML: speech, keypad options, ``<Pay>``, hand-off, hang-up.

    Rasa unavailable: an apology and a person. No replies: "anything else?".
    """
    conversation = result.conversation
    language = conversation.language
    if result.degraded:
        return handoff(
            services,
            conversation,
            before=[text(language, "unavailable")],
            ticket_id=result.ticket_id,
        )
    replies = list(result.replies)
    if not replies:
        return anything_else(services, conversation)
    buttons: list[Button] = []
    for reply in replies:
        if reply.buttons:
            buttons = list(reply.buttons)
    kinds = {r.custom_type for r in replies}
    mode: Mode = "handoff" if "handoff" in kinds else ("pay" if "pay" in kinds else "rasa")
    state = load_state(conversation)
    state.update(
        {
            "mode": mode,
            "buttons": [[b.title, b.payload] for b in buttons],
            "prompt": [r.text for r in replies if r.text][-2:],
            "silence": 0,
            "low_confidence": 0,
        }
    )
    save_state(conversation, state)
    n = next_turn(conversation)
    if "hangup" in kinds:
        conversation.outcome = conversation.outcome or "completed"
    return render_voice(
        replies,
        language=language,
        urls=voice_urls(services, n),
        pay=pay_settings(services),
        handoff=handoff_route(services, language),
    )


def _offer(
    services: ChannelServices,
    conversation: Conversation,
    *,
    mode: Mode,
    line: str,
    before: Sequence[str] = (),
    num_digits: int | None = None,
) -> str:
    """Say ``before`` and ``line``; ``line`` is what a re-prompt repeats."""
    state = load_state(conversation)
    state.update({"mode": mode, "buttons": [], "prompt": [line]})
    save_state(conversation, state)
    n = next_turn(conversation)
    return prompt(
        [*before, line],
        language=conversation.language,
        action=voice_urls(services, n).gather,
        num_digits=num_digits,
    )
