"""action_complete_request: carry out the request request_form collected."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import billing, messages, service
from actions.gateway_client import GatewayError, GatewayRefused
from actions.handoff import hand_off
from actions.requests import REQUEST_SLOTS, TIER1

log = logging.getLogger(__name__)

Handler = Callable[[CollectingDispatcher, Tracker], Awaitable[list[EventType]]]


async def _billing_dispute(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    dispatcher.utter_message(text=messages.say(tracker, "dispute_leak_check"))
    return await hand_off(
        dispatcher,
        tracker,
        intent="billing_dispute",
        reason="billing disputes are decided by a CSR II or above",
    )


async def _leak_adjustment(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    dispatcher.utter_message(text=messages.say(tracker, "leak_proof"))
    return await hand_off(
        dispatcher,
        tracker,
        intent="leak_adjustment",
        reason="leak adjustments are decided by a CSR II or above",
    )


async def _complaint(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    return await hand_off(
        dispatcher,
        tracker,
        intent="complaint",
        reason="complaints are handled by staff",
    )


async def _update_contact(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    dispatcher.utter_message(text=messages.say(tracker, "update_contact_person"))
    return await hand_off(
        dispatcher,
        tracker,
        intent="update_contact",
        reason="contact changes need tier 2 (a CSR confirms them)",
    )


HANDLERS: dict[str, Handler] = {
    "check_balance": billing.check_balance,
    "make_payment": billing.make_payment,
    "payment_arrangement": billing.record_arrangement,
    "autopay": billing.autopay,
    "service_restoration": billing.service_restoration,
    "outage": service.outage,
    "water_quality": service.water_quality,
    "report_emergency": service.report_emergency,
    "start_service": service.start_service,
    "stop_service": service.stop_service,
    "billing_dispute": _billing_dispute,
    "leak_adjustment": _leak_adjustment,
    "complaint": _complaint,
    "update_contact": _update_contact,
}


class ActionCompleteRequest(Action):
    """Runs the pending request; hands off when verification failed or the gateway fails."""

    def name(self) -> str:
        return "action_complete_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = tracker.get_slot("pending_intent")
        handler = HANDLERS.get(intent or "")
        if handler is None:
            dispatcher.utter_message(text=messages.say(tracker, "what_else"))
            return _done()
        if tracker.get_slot("request_failed"):
            return _done() + await self._system_error(dispatcher, tracker, intent)
        if intent in TIER1 and not tracker.get_slot("verified"):
            dispatcher.utter_message(text=messages.say(tracker, "verification_locked"))
            return _done() + await hand_off(
                dispatcher,
                tracker,
                intent=intent,
                reason="the caller could not be verified (3 failed attempts)",
            )
        try:
            events = await handler(dispatcher, tracker)
        except GatewayRefused as exc:
            log.warning("gateway refused %s: %s", intent, exc.status)
            return _done() + await self._system_error(dispatcher, tracker, intent)
        except GatewayError as exc:
            log.warning("gateway failed for %s: %s", intent, exc)
            dispatcher.utter_message(text=messages.say(tracker, "system_error"))
            return _done()
        return _done() + events

    @staticmethod
    async def _system_error(
        dispatcher: CollectingDispatcher, tracker: Tracker, intent: str
    ) -> list[EventType]:
        return await hand_off(
            dispatcher,
            tracker,
            intent=intent,
            reason="the assistant could not complete the request through the account system",
        )


def _done() -> list[EventType]:
    # The request is finished: its answers must not leak into the next one.
    return [
        SlotSet("pending_intent", None),
        SlotSet("request_failed", None),
        SlotSet("arrangement_options", None),
    ] + [SlotSet(slot, None) for slot in REQUEST_SLOTS if slot != "address"]
