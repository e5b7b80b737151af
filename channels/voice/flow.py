"""A new call and every ``<Gather>`` turn: keypad or speech, re-prompts, language, Rasa.

A turn is decided by a *step* in the request's first transaction: the gateway
answers by itself (a menu, a re-prompt, a language switch, a hand-off after
silence) or the step says what to ask the assistant (:class:`AskRasa`); then
the relay asks Rasa on the event loop and the replies are rendered in a second
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Conversation
from channels.base import Button
from channels.deps import ChannelServices
from channels.rasa_client import VOICE_TIMEOUT_SECONDS
from channels.relay import DuplicateMessage, PendingTurn, TurnResult, remember_answer
from channels.signature import TwilioRequest
from channels.twiml import new_gather, say, with_query
from channels.voice import inbound, prompts
from channels.voice.copy import SPANISH_OFFER, text
from channels.voice.render import voice_base
from channels.voice.state import (
    answer,
    call_conversation,
    load_state,
    next_turn,
    replay,
    save_state,
    start_key,
    turn_key,
)

logger = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.3
MAX_SILENCES = 2  # re-prompts before a person or voicemail
MAX_LOW_CONFIDENCE = 1  # re-prompts before offering the keypad

#: Keypad menu → what the assistant is asked (Rasa intent triggers).
MENU: Mapping[str, str] = {
    "1": "/check_balance",
    "2": "/make_payment",
    "3": "/outage",
    "0": "/human_agent",
}
SERVICE_MENU: Mapping[str, str] = {"1": "/start_service", "2": "/stop_service"}


@dataclass(frozen=True)
class AskRasa:
    """A turn that needs the assistant: what the caller said and what Rasa gets."""

    spoken: str
    kind: str
    rasa_text: str | None
    meta: Mapping[str, Any]


@dataclass
class _ToRasa:
    """A voice turn whose first transaction is committed, waiting on the assistant."""

    pending: PendingTurn
    ask: AskRasa


#: A turn's first decision: the TwiML answered by the gateway, or what to ask Rasa.
Step = Callable[[ChannelServices, Session, TwilioRequest, Conversation, str], "str | AskRasa"]


def start_call(*, services: ChannelServices, session: Session, tw: TwilioRequest) -> str:
    """A new call: greeting, language choice, caller-ID lookup; commits."""
    call_sid = tw.get("CallSid")
    if not call_sid:
        logger.warning("voice webhook without CallSid")
        response = VoiceResponse()
        response.hangup()
        return str(response)
    key = start_key(call_sid)
    message = inbound.message(
        tw, text_value="(call started)", kind="call", key=key, meta={"to": tw.get("To")}
    )
    conversation, _ = services.relay.open_conversation(
        session=session, message=message, conversation_key=call_sid
    )
    state = load_state(conversation)
    state.update({"mode": "language", "silence": 0, "low_confidence": 0, "buttons": []})
    save_state(conversation, state)
    n = next_turn(conversation)
    base = voice_base(services)
    response = VoiceResponse()
    gather = new_gather(
        action=with_query(f"{base}/language", n=n),
        language="en",
        num_digits=1,
        timeout=3,
    )
    say(gather, text("en", "welcome", name=services.district.name), "en")
    say(gather, SPANISH_OFFER, "es")
    response.append(gather)
    response.redirect(with_query(f"{base}/language", n=n, silence=1), method="POST")
    return answer(services, session, conversation, message, str(response))


async def choose_language(*, services: ChannelServices, tw: TwilioRequest) -> str:
    """The greeting's answer: 2 (or "español") → Spanish; else English."""
    return await _gathered(services, tw, _language_choice, turn_key(tw, "language"))


async def gather_turn(*, services: ChannelServices, tw: TwilioRequest) -> str:
    """One ``<Gather>`` result: keypad, speech, or silence."""
    return await _gathered(services, tw, _turn_step, turn_key(tw, "turn"))


# -- steps -----------------------------------------------------------------------


def _language_choice(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
) -> str | AskRasa:
    digits = inbound.digits(tw)
    speech = inbound.speech(tw)
    if digits == "2" or inbound.mentions_spanish(speech):
        return _switch_language(services, session, tw, conversation, key, "es")
    conversation.language = "en"
    if digits:
        return _handle_digits(services, session, tw, conversation, digits, key)
    if speech:
        return _handle_speech(services, session, tw, conversation, speech, key)
    message = inbound.message(tw, text_value="", kind="no_input", key=key, language="en")
    return answer(services, session, conversation, message, prompts.menu(services, conversation))


def _switch_language(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
    language: str,
) -> str:
    """The caller chose a language: record it and offer the menu in that language."""
    digits = inbound.digits(tw)
    conversation.language = language
    message = inbound.message(
        tw,
        text_value=digits or inbound.speech(tw),
        kind="dtmf" if digits else "speech",
        key=key,
        language=language,
        meta={"choice": "spanish" if language == "es" else "english"},
    )
    return answer(services, session, conversation, message, prompts.menu(services, conversation))


def _turn_step(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
) -> str | AskRasa:
    digits = inbound.digits(tw)
    speech = inbound.speech(tw)
    if digits:
        return _handle_digits(services, session, tw, conversation, digits, key)
    if speech:
        wanted = inbound.language_request(speech)
        if wanted is not None and wanted != conversation.language:
            return _switch_language(services, session, tw, conversation, key, wanted)
        return _handle_speech(services, session, tw, conversation, speech, key)
    return _handle_silence(services, session, tw, conversation, key)


def _handle_silence(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
) -> str:
    language = conversation.language
    state = load_state(conversation)
    silences = int(state.get("silence", 0)) + 1
    state["silence"] = silences
    save_state(conversation, state)
    if silences > MAX_SILENCES:
        twiml = prompts.handoff(
            services, conversation, before=[text(language, "no_input")], ticket_id=None
        )
    else:
        twiml = prompts.reprompt(services, conversation, before=[text(language, "no_input")])
    message = inbound.message(tw, text_value="", kind="no_input", key=key)
    return answer(services, session, conversation, message, twiml)


def _handle_speech(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    speech: str,
    key: str,
) -> str | AskRasa:
    language = conversation.language
    confidence = inbound.confidence(tw)
    state = load_state(conversation)
    state["silence"] = 0
    if confidence < LOW_CONFIDENCE:
        low = int(state.get("low_confidence", 0)) + 1
        state["low_confidence"] = low
        save_state(conversation, state)
        if low > MAX_LOW_CONFIDENCE:
            state["low_confidence"] = 0
            save_state(conversation, state)
            twiml = prompts.menu(services, conversation, before=[text(language, "use_keypad")])
        else:
            twiml = prompts.reprompt(
                services, conversation, before=[text(language, "low_confidence")]
            )
        message = inbound.message(
            tw,
            text_value=speech,
            kind="speech",
            key=key,
            meta={"confidence": confidence, "low_confidence": True},
        )
        return answer(services, session, conversation, message, twiml)
    state["low_confidence"] = 0
    save_state(conversation, state)
    return AskRasa(spoken=speech, kind="speech", rasa_text=None, meta={"confidence": confidence})


def _handle_digits(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    digits: str,
    key: str,
) -> str | AskRasa:
    language = conversation.language
    state = load_state(conversation)
    state["silence"] = 0
    save_state(conversation, state)
    mode = state.get("mode", "menu")
    buttons = [Button(str(b[0]), str(b[1])) for b in state.get("buttons") or []]
    rasa_text: str | None = None
    choice: dict[str, Any] = {}
    if buttons and len(digits) == 1 and digits.isdigit():
        index = int(digits) - 1
        if 0 <= index < len(buttons):
            rasa_text = buttons[index].payload
            choice = {"button": buttons[index].title}
    elif mode in ("menu", "language") and len(digits) == 1:
        if digits == "4":
            twiml = prompts.service_menu(services, conversation)
            message = inbound.message(
                tw, text_value=digits, kind="dtmf", key=key, meta={"menu": "service"}
            )
            return answer(services, session, conversation, message, twiml)
        rasa_text = MENU.get(digits)
        choice = {"menu": digits}
    elif mode == "service" and len(digits) == 1:
        rasa_text = SERVICE_MENU.get(digits)
        choice = {"menu": f"4{digits}"}
    else:
        # A number the assistant asked for (account number, ZIP): send it as text.
        return AskRasa(spoken=digits, kind="dtmf", rasa_text=None, meta={"digits": len(digits)})
    if rasa_text is None:
        twiml = prompts.reprompt(services, conversation, before=[text(language, "not_option")])
        message = inbound.message(
            tw, text_value=digits, kind="dtmf", key=key, meta={"invalid": True}
        )
        return answer(services, session, conversation, message, twiml)
    return AskRasa(
        spoken=digits, kind="dtmf", rasa_text=rasa_text, meta={**choice, "sent": rasa_text}
    )


# -- asking the assistant ----------------------------------------------------------


def _before_rasa(
    services: ChannelServices, session: Session, tw: TwilioRequest, key: str, step: Step
) -> tuple[str | _ToRasa, Conversation, str | None]:
    """The first transaction of a ``<Gather>`` result: the step, and the inbound record.

    Returns the outcome, the call's conversation, and the caller's new
    language when this request changed it (Rasa's ``language`` slot follows).

    Raises:
        DuplicateMessage: The request was already handled.
    """
    conversation = call_conversation(services, session, tw)
    before = conversation.language
    outcome = step(services, session, tw, conversation, key)
    changed = conversation.language if conversation.language != before else None
    if isinstance(outcome, str):
        return outcome, conversation, changed
    message = inbound.message(
        tw, text_value=outcome.spoken, kind=outcome.kind, key=key, meta=outcome.meta
    )
    pending = services.relay.begin_turn(
        session=session,
        message=message,
        conversation_key=conversation.external_id,
        conversation=conversation,
    )
    return _ToRasa(pending=pending, ask=outcome), conversation, changed


async def _gathered(services: ChannelServices, tw: TwilioRequest, step: Step, key: str) -> str:
    """Handle a ``<Gather>`` result: database work in worker threads, Rasa on the loop."""
    relay = services.relay
    with services.session_factory() as session:
        try:
            outcome, conversation, language = await to_thread.run_sync(
                _before_rasa, services, session, tw, key, step
            )
            if language is not None:
                # The caller switched language: the bot's own answers follow.
                await relay.set_language(conversation, language)
            if isinstance(outcome, str):
                return outcome

            def render(result: TurnResult) -> str:
                twiml = prompts.assistant_turn(services, result)
                remember_answer(result.inbound, twiml)
                return twiml

            twiml = await relay.complete_turn(
                session=session,
                pending=outcome.pending,
                timeout=VOICE_TIMEOUT_SECONDS,
                rasa_text=outcome.ask.rasa_text,
                extra_metadata={"input": outcome.ask.kind},
                then=render,
            )
        except DuplicateMessage:
            return await to_thread.run_sync(replay, session, key, None)
    return twiml
