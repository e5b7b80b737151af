"""Hand-off to the CSR queue: the gateway marks the conversation handed off and
opens a ticket; the bot tells the customer what happens next."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import messages
from actions.gateway_client import GatewayError, GatewayRefused, gateway
from actions.requests import REQUEST_SLOTS

log = logging.getLogger(__name__)

_INTENT_LABELS = {
    "billing_dispute": "a billing dispute",
    "leak_adjustment": "a leak adjustment request",
    "complaint": "a complaint",
    "payment_arrangement": "a payment arrangement",
    "update_contact": "a change of contact details",
    "service_restoration": "restoring service",
    "human_agent": "a request to talk with a person",
    "out_of_scope": "a question the assistant could not answer",
}
_CHANNEL_LABELS = {"sms": "text message", "voice": "phone", "email": "email"}
_LANGUAGE_LABELS = {"en": "English", "es": "Spanish"}
_DETAIL_LABELS = {
    "issue_details": "In their words",
    "repair_date": "Leak repaired on",
    "stop_date": "Stop date",
    "forwarding_address": "Forwarding address",
    "service_address": "Service address",
    "start_date": "Start date",
    "customer_name": "Name",
    "address": "Address",
}


def customer_messages(tracker: Tracker, limit: int = 3) -> list[str]:
    """The customer's latest messages, oldest first (already redacted by the gateway)."""
    texts = [
        str(event.get("text"))
        for event in tracker.events
        if event.get("event") == "user" and event.get("text")
    ]
    return texts[-limit:]


def summary(tracker: Tracker, intent: str, reason: str, extra: str | None = None) -> str:
    """One paragraph for the CSR: who, how, what, what the bot already did and why it stopped."""
    verified = bool(tracker.get_slot("verified"))
    parts = [
        f"Customer contacted us by {_CHANNEL_LABELS.get(messages.channel(tracker), 'message')}"
        f" in {_LANGUAGE_LABELS[messages.language(tracker)]} about "
        f"{_INTENT_LABELS.get(intent, intent.replace('_', ' '))}.",
        "Identity verified (tier 1)." if verified else "Identity not verified.",
    ]
    details = [
        f"{label}: {tracker.get_slot(slot)}."
        for slot, label in _DETAIL_LABELS.items()
        if tracker.get_slot(slot)
    ]
    parts.extend(details)
    if extra:
        parts.append(extra)
    said = customer_messages(tracker)
    if said:
        parts.append("Latest messages: " + " / ".join(f'"{text}"' for text in said) + ".")
    parts.append(f"Handed off because: {reason}.")
    return " ".join(parts)


async def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    intent: str,
    reason: str,
    extra: str | None = None,
) -> list[EventType]:
    """Open the ticket through the gateway and tell the customer; returns the events.

    When the gateway cannot be reached the customer still gets an honest answer:
    the gateway opens a ticket for failed turns on its side when it can.
    """
    lang = messages.language(tracker)
    payload: dict[str, Any] = {
        "intent": intent,
        "reason": reason,
        "summary": summary(tracker, intent, reason, extra),
        "language": lang,
    }
    try:
        ticket = await gateway().handoff(tracker.sender_id, payload)
    except (GatewayError, GatewayRefused) as exc:
        log.warning("hand-off failed: %s", exc)
        dispatcher.utter_message(text=messages.text(lang, "system_error"))
        return _reset_events()
    if ticket.get("live_transfer") and messages.channel(tracker) == "voice":
        dispatcher.utter_message(text=messages.text(lang, "handoff_transfer"))
    elif ticket.get("office_open") is False:
        # After hours the gateway adds when a person will follow up (naming a
        # holiday) and the emergency line: one promise, from the business calendar.
        dispatcher.utter_message(
            text=messages.text(lang, "handoff_queued_closed", ticket=ticket["ticket_id"])
        )
    elif ticket.get("due_at_local"):
        dispatcher.utter_message(
            text=messages.text(
                lang,
                "handoff_queued",
                ticket=ticket["ticket_id"],
                when=messages.moment(lang, ticket["due_at_local"]),
            )
        )
    else:
        dispatcher.utter_message(
            text=messages.text(lang, "handoff_queued_soon", ticket=ticket["ticket_id"])
        )
    dispatcher.utter_message(
        json_message={
            "type": "handoff",
            "ticket_id": ticket["ticket_id"],
            "level": ticket.get("level"),
            "live_transfer": bool(ticket.get("live_transfer")),
        }
    )
    return _reset_events()


def _reset_events() -> list[EventType]:
    # The request is now the CSR's: nothing is left pending for the bot, so
    # when the conversation resumes after the ticket it starts clean.
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("pending_intent", None)] + [
        SlotSet(slot, None) for slot in REQUEST_SLOTS if slot != "address"
    ]


class ActionHandoff(Action):
    """The customer asked for a person (or said yes to one)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_intent")
        return await hand_off(
            dispatcher,
            tracker,
            intent=pending or "human_agent",
            reason="the customer asked for a representative",
        )


class ActionFallback(Action):
    """Not understood or out of scope: say so; the second time in a row, hand off."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if consecutive_fallbacks(tracker) >= 2:
            return await hand_off(
                dispatcher,
                tracker,
                intent=tracker.get_slot("pending_intent") or "out_of_scope",
                reason="the assistant did not understand the customer twice in a row",
            )
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if tracker.active_loop_name:
            key = "fallback_in_form"
        elif intent == "out_of_scope":
            key = "out_of_scope"
        else:
            key = "fallback"
        dispatcher.utter_message(text=messages.say(tracker, key))
        return []


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user turns in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name in ("nlu_fallback", "out_of_scope"):
            count += 1
        else:
            break
    return count
