"""What a call keeps between webhook requests, and answering a redelivery the same way.

A call is one conversation (keyed by CallSid); its voice state lives on
``conversation.meta["voice"]`` (:class:`CallState`). Every request has a key
(the contact-log external id of what the caller sent): a redelivered request
with the same key gets the TwiML answered the first time.
"""

from __future__ import annotations

import re
from typing import Literal, TypedDict, cast

from sqlalchemy.orm import Session

from accounts.models import Conversation
from channels.base import InboundMessage
from channels.deps import ChannelServices
from channels.relay import DuplicateMessage, answered_before, remember_answer
from channels.signature import TwilioRequest
from channels.voice import inbound
from channels.voice.render import TURN_PATH, prompt

#: What the next keypad press means: the language choice, the main menu, the
#: start/stop-service menu, the assistant's buttons or text, ``<Pay>``, a hand-off.
Mode = Literal["language", "menu", "service", "rasa", "pay", "handoff"]


class CallState(TypedDict, total=False):
    """``conversation.meta["voice"]``.

    Attributes:
        n: The last turn number handed out (every turn URL carries the next one).
        mode: What the next keypad press means.
        buttons: The assistant's offered options as ``[title, payload]`` pairs
            (keypad 1, 2, …).
        prompt: What to say again on a re-prompt.
        silence: Silences in a row.
        low_confidence: Poorly recognised utterances in a row.
    """

    n: int
    mode: Mode
    buttons: list[list[str]]
    prompt: list[str]
    silence: int
    low_confidence: int


def load_state(conversation: Conversation) -> CallState:
    """A copy of the call's state (change it, then :func:`save_state`)."""
    return cast(CallState, dict((conversation.meta or {}).get("voice") or {}))


def save_state(conversation: Conversation, state: CallState) -> None:
    """Store the call's state (a new ``meta`` dict, so the change is persisted)."""
    meta = dict(conversation.meta or {})
    meta["voice"] = dict(state)
    conversation.meta = meta


def next_turn(conversation: Conversation) -> int:
    """Hand out the next turn number."""
    state = load_state(conversation)
    n = int(state.get("n", 0)) + 1
    state["n"] = n
    save_state(conversation, state)
    return n


def call_conversation(
    services: ChannelServices, session: Session, tw: TwilioRequest
) -> Conversation:
    """The call's conversation (opened, with the caller-ID lookup, if this is new)."""
    message = inbound.message(tw, text_value="", kind="call", key="")
    conversation, _ = services.relay.open_conversation(
        session=session, message=message, conversation_key=tw.get("CallSid") or "unknown"
    )
    return conversation


# -- request keys ----------------------------------------------------------------


def start_key(call_sid: str) -> str:
    """The key of a call's first request."""
    return f"voice:{call_sid}:start"


def turn_key(tw: TwilioRequest, step: str) -> str:
    """The key of a turn request: call, step, turn number, and whether it is a silence."""
    query = inbound.query(tw)
    n = re.sub(r"\D", "", query.get("n", "0"))[:9] or "0"
    silence = ":s" if query.get("silence") else ""
    return f"voice:{tw.get('CallSid')}:{step}:{n}{silence}"


def recording_key(recording_sid: str) -> str:
    """The key of a voicemail (the recording's sid, or the call's when Twilio sent none)."""
    return f"voice:{recording_sid}:recording"


def transcription_key(recording_sid: str) -> str:
    """The key of a voicemail's transcription."""
    return f"voice:{recording_sid}:transcription"


# -- redelivery ----------------------------------------------------------------


def answer(
    services: ChannelServices,
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    twiml: str,
) -> str:
    """Record the caller's input and answer ``twiml`` (kept for a redelivery); commits."""
    try:
        entry = services.relay.record_inbound(
            session=session, message=message, conversation=conversation
        )
    except DuplicateMessage:
        return replay(session, message.external_id or "", conversation)
    remember_answer(entry, twiml)
    session.commit()
    return twiml


def replay(session: Session, key: str, conversation: Conversation | None) -> str:
    """The TwiML answered to the first delivery of this request (rolls back first)."""
    twiml = answered_before(session, key)
    if twiml is None:
        # The first delivery is still being handled: ask again rather than act twice.
        language = conversation.language if conversation else "en"
        twiml = prompt([], language=language, action=TURN_PATH)
    return twiml
