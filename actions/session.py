"""action_session_start: the gateway's metadata (channel, language, caller) into slots."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.gateway_client import GatewayError, GatewayRefused, gateway

log = logging.getLogger(__name__)

CHANNELS = ("sms", "voice", "email")
LANGUAGES = ("en", "es")


class ActionSessionStart(Action):
    """Starts a session with what the gateway knows about the conversation.

    The metadata of the first message gives channel and language; the gateway's
    conversation record says whether the sender matched an account and which
    tier the conversation already reached (a conversation resumed after a
    hand-off keeps its verification).
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        metadata: dict[str, Any] = tracker.get_slot("session_started_metadata") or {}
        events: list[EventType] = [SessionStarted()]
        if metadata.get("channel") in CHANNELS:
            events.append(SlotSet("channel", metadata["channel"]))
        language = metadata.get("language")
        try:
            conversation = await gateway().conversation(tracker.sender_id)
        except (GatewayError, GatewayRefused) as exc:
            # Without the record the caller is treated as unknown: account
            # number + ZIP instead of one factor. Nothing is revealed either way.
            log.warning("conversation lookup failed at session start: %s", exc)
            conversation = {}
        language = language or conversation.get("language")
        if language in LANGUAGES:
            events.append(SlotSet("language", language))
        events.append(SlotSet("caller_matched", bool(conversation.get("caller_matched"))))
        events.append(SlotSet("verified", int(conversation.get("verification_tier") or 0) >= 1))
        events.append(ActionExecuted("action_listen"))
        return events
