"""request_form: verification first when needed, then what the request needs.

Slots are extracted here (custom mappings) rather than by Rasa, because the
answers come as digits, spoken numbers or free text whatever intent NLU
guesses for them. When a message answers nothing (a side question, "I want a
person"), nothing is extracted, the form is rejected and the rules handle the
interruption, then come back to the form.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import digits, messages
from actions.billing import describe_option
from actions.gateway_client import GatewayError, GatewayRefused, gateway
from actions.requests import (
    ACCOUNT_ADDRESS_OK,
    CONTROL_INTENTS,
    FALLBACK_INTENTS,
    FLOW_INTENTS,
    OWN_SLOTS,
    REQUEST_SLOTS,
    TIER1,
)

log = logging.getLogger(__name__)

FORM = "request_form"
# Actions that may run between the customer's message and the form's turn
# without the form having been interrupted.
_SAME_TURN_ACTIONS = {"action_listen", FORM, "action_extract_slots", None}


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the customer's latest message."""
    return (tracker.latest_message.get("intent") or {}).get("name")


def fresh_turn(tracker: Tracker) -> bool:
    """True when the form runs right after the customer's message.

    After an interruption (a side answer, then back to the form) the latest
    message is the side question: it must not be taken as an answer.
    """
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in _SAME_TURN_ACTIONS:
            return False
    return True


def answer_to(tracker: Tracker, slot: str) -> str | None:
    """The customer's latest text when it answers the question about ``slot``."""
    if tracker.get_slot("requested_slot") != slot or not fresh_turn(tracker):
        return None
    return (tracker.latest_message.get("text") or "").strip() or None


def free_text_answer(tracker: Tracker, slot: str) -> str | None:
    """A free-text answer, unless the message is plainly something else."""
    answer = answer_to(tracker, slot)
    if answer is None:
        return None
    intent = latest_intent(tracker)
    other = intent in CONTROL_INTENTS or (intent in FLOW_INTENTS and intent != slot_owner(tracker))
    return None if other and _confident(tracker) else answer[:1000]


# An answer to a free-text question (an address, a date, details) is taken as
# the answer unless NLU is this sure it is something else.
SURE = 0.8
_CHOICE_SLOTS = {"verification_factor", "account_number", "zip_code", "arrangement_choice"}


def _confident(tracker: Tracker) -> bool:
    return float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0) >= SURE


def _free_text_question(tracker: Tracker) -> bool:
    requested = tracker.get_slot("requested_slot")
    return bool(requested) and requested not in _CHOICE_SLOTS


def slots_set_this_turn(tracker: Tracker) -> set:
    """Slots Rasa filled from the customer's latest message (before the form ran)."""
    names: set = set()
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            break
        if kind == "action" and event.get("name") == FORM:
            names.clear()  # what follows the form marker are the form's own candidates
            continue
        if kind == "slot" and event.get("name") != "requested_slot":
            names.add(event.get("name"))
    return names


def slot_owner(tracker: Tracker) -> str | None:
    """The pending request (whose question is being answered)."""
    return tracker.get_slot("pending_intent")


def needs_verification(tracker: Tracker) -> bool:
    """The pending request shows account data and the caller is not verified yet."""
    return slot_owner(tracker) in TIER1 and not tracker.get_slot("verified")


class ValidateRequestForm(FormValidationAction):
    """Picks the slots of the pending request, extracts and checks the answers."""

    def name(self) -> str:
        return "validate_request_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = self._pending_events(tracker)
        tracker.add_slots(events)
        events += await self._arrangement_options(tracker)
        return events + await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _pending_events(tracker: Tracker) -> list[EventType]:
        """The request is the intent that activated the form, or one asked inside it.

        Asking for a request inside the form always counts as an answer (so the
        form is not rejected); a different request replaces the pending one.
        """
        intent = latest_intent(tracker)
        if intent not in FLOW_INTENTS:
            return []
        activating = tracker.active_loop_name != FORM
        if not activating and not fresh_turn(tracker):
            return []
        if not activating and _free_text_question(tracker) and not _confident(tracker):
            return []  # a free-text answer that only looks like another request
        events: list[EventType] = [SlotSet("pending_intent", intent)]
        if intent == slot_owner(tracker) and not activating:
            return events
        set_now = slots_set_this_turn(tracker)
        # Answers to an earlier request do not carry over, except what the
        # customer gave in this very message (an address, an account number).
        return (
            events
            + [SlotSet("arrangement_options", None)]
            + [
                SlotSet(slot, None)
                for slot in REQUEST_SLOTS
                if slot not in set_now and tracker.get_slot(slot) is not None
            ]
        )

    @staticmethod
    async def _arrangement_options(tracker: Tracker) -> list[EventType]:
        if (
            slot_owner(tracker) != "payment_arrangement"
            or not tracker.get_slot("verified")
            or tracker.get_slot("arrangement_options") is not None
        ):
            return []
        try:
            offer = await gateway().arrangement_options(tracker.sender_id)
        except (GatewayError, GatewayRefused) as exc:
            log.warning("arrangement options failed: %s", exc)
            events: list[EventType] = [SlotSet("request_failed", True)]
        else:
            events = [SlotSet("arrangement_options", offer)]
        tracker.add_slots(events)
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        pending = slot_owner(tracker)
        if pending not in OWN_SLOTS or tracker.get_slot("request_failed"):
            return []
        if pending in TIER1 and not tracker.get_slot("verified"):
            if tracker.get_slot("verification_locked"):
                return []
            if tracker.get_slot("caller_matched"):
                return ["verification_factor"]
            return ["account_number", "zip_code"]
        slots = list(OWN_SLOTS[pending])
        if pending in ACCOUNT_ADDRESS_OK and tracker.get_slot("verified"):
            slots.remove("address")
        if pending == "payment_arrangement":
            offer = tracker.get_slot("arrangement_options") or {}
            if not offer.get("options"):
                return []  # nothing the bot may offer: a CSR II takes it
        return slots

    # --- verification -----------------------------------------------------
    async def extract_verification_factor(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not needs_verification(tracker) or tracker.get_slot("verification_factor"):
            return {}
        answer = answer_to(tracker, "verification_factor")
        if answer is not None:
            found = digits.first_group(answer, digits.FACTOR)
            if found:
                return {"verification_factor": found}
        # Given before being asked ("balance for account 1000417"), or in this message.
        for slot in ("account_number", "zip_code"):
            value = tracker.get_slot(slot)
            if value:
                found = digits.first_group(str(value), digits.FACTOR)
                if found:
                    return {"verification_factor": found}
        return {}

    async def validate_verification_factor(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value or tracker.get_slot("verified"):
            return {}
        return await self._verify(dispatcher, tracker, factor=str(value))

    async def extract_account_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_to(tracker, "account_number") or answer_to(tracker, "zip_code")
        if answer is None:
            return {}
        found = digits.first_group(answer, digits.ACCOUNT)
        return {"account_number": found} if found else {}

    async def extract_zip_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = answer_to(tracker, "zip_code") or answer_to(tracker, "account_number")
        if answer is None:
            return {}
        found = digits.first_group(answer, digits.ZIP)
        return {"zip_code": found} if found else {}

    async def validate_account_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("verified") or not needs_verification(tracker):
            return {}
        if tracker.get_slot("account_number") is None:
            return {"account_number": None}  # cleared by a failed check in this turn
        number = digits.first_group(str(value), digits.ACCOUNT)
        if number is None:
            dispatcher.utter_message(text=messages.say(tracker, "account_number_invalid"))
            return {"account_number": None}
        if tracker.get_slot("zip_code"):
            return await self._verify_pair(dispatcher, tracker, number)
        return {"account_number": number}

    async def validate_zip_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("verified") or not needs_verification(tracker):
            return {}
        if tracker.get_slot("zip_code") is None:
            return {"zip_code": None}
        zip_code = digits.first_group(str(value), digits.ZIP)
        if zip_code is None:
            dispatcher.utter_message(text=messages.say(tracker, "zip_invalid"))
            return {"zip_code": None}
        number = tracker.get_slot("account_number")
        if number and tracker.get_slot("caller_matched") is not True:
            return await self._verify_pair(dispatcher, tracker, str(number), zip_code)
        return {"zip_code": zip_code}

    async def _verify_pair(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        number: str,
        zip_code: str | None = None,
    ) -> dict[str, Any]:
        zip_code = zip_code or digits.first_group(str(tracker.get_slot("zip_code")), digits.ZIP)
        if zip_code is None:
            return {"account_number": number, "zip_code": None}
        return await self._verify(dispatcher, tracker, account_number=number, zip_code=zip_code)

    async def _verify(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, **answer: str
    ) -> dict[str, Any]:
        try:
            result = await gateway().verify(tracker.sender_id, **answer)
        except (GatewayError, GatewayRefused) as exc:
            log.warning("verification call failed: %s", exc)
            return {"request_failed": True, "verification_factor": None}
        if result.get("verified"):
            dispatcher.utter_message(text=messages.say(tracker, "verified"))
            values = {"verified": True, "verification_factor": "ok"}
            values.update({key: value for key, value in _answer_slots(answer).items()})
            return values
        cleared = {"verification_factor": None, "account_number": None, "zip_code": None}
        if result.get("locked"):
            return {**cleared, "verification_locked": True}
        dispatcher.utter_message(
            text=messages.say(tracker, "verification_failed", left=result.get("attempts_left", 0))
        )
        return cleared


def _answer_slots(answer: dict[str, str]) -> dict[str, Any]:
    # Keep the verified account number and ZIP filled so the form does not ask again.
    slots: dict[str, Any] = {}
    if "account_number" in answer:
        slots["account_number"] = answer["account_number"]
    if "zip_code" in answer:
        slots["zip_code"] = answer["zip_code"]
    return slots


async def _extract_free(slot: str, tracker: Tracker) -> dict[str, Any]:
    answer = free_text_answer(tracker, slot)
    return {slot: answer} if answer else {}


def _free_text_extractor(slot: str):  # type: ignore[no-untyped-def]
    async def extract(
        self: ValidateRequestForm,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot == "address" and tracker.get_slot("address"):
            return {}
        return await _extract_free(slot, tracker)

    return extract


for _slot in (
    "address",
    "service_address",
    "start_date",
    "customer_name",
    "stop_date",
    "forwarding_address",
    "repair_date",
    "issue_details",
):
    setattr(ValidateRequestForm, f"extract_{_slot}", _free_text_extractor(_slot))


async def _extract_arrangement_choice(
    self: ValidateRequestForm,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
) -> dict[str, Any]:
    answer = answer_to(tracker, "arrangement_choice")
    if answer is None:
        return {}
    options = (tracker.get_slot("arrangement_options") or {}).get("options") or []
    intent = latest_intent(tracker)
    if intent == "deny":
        return {"arrangement_choice": "none"}
    if intent == "affirm" and len(options) == 1:
        return {"arrangement_choice": options[0]["id"]}
    number = digits.first_group(answer, range(1, 3))
    if number and 1 <= int(number) <= len(options):
        return {"arrangement_choice": options[int(number) - 1]["id"]}
    lowered = answer.lower()
    for option in options:
        if any(word in lowered for word in option.get("keywords", [])):
            return {"arrangement_choice": option["id"]}
    if intent in FALLBACK_INTENTS or intent is None or intent == "payment_arrangement":
        dispatcher.utter_message(text=messages.say(tracker, "arrangement_choice_unclear"))
        return {"arrangement_choice": None}
    return {}


ValidateRequestForm.extract_arrangement_choice = _extract_arrangement_choice  # type: ignore[attr-defined]


# --- questions ----------------------------------------------------------------
class AskSlot(Action, ABC):
    """``action_ask_<slot>``: the form's question, in the conversation's language."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot asked for (subclasses set it as a class attribute)."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=messages.say(tracker, self.question_key(tracker)))
        return []

    def question_key(self, tracker: Tracker) -> str:
        """Which catalog message asks for the slot (it may depend on the request)."""
        return f"ask_{self.slot}"


class AskIssueDetails(AskSlot):
    slot = "issue_details"

    def question_key(self, tracker: Tracker) -> str:
        return f"ask_issue_details_{slot_owner(tracker) or 'complaint'}"


class AskAddress(AskSlot):
    slot = "address"

    def question_key(self, tracker: Tracker) -> str:
        return f"ask_address_{slot_owner(tracker) or 'outage'}"


class AskVerificationFactor(AskSlot):
    slot = "verification_factor"

    def question_key(self, tracker: Tracker) -> str:
        # The first time, say why we ask; after a miss, just ask again.
        return (
            "ask_verification_factor_again"
            if _asked_before(tracker, self.name())
            else "ask_verification_factor"
        )


class AskAccountNumber(AskSlot):
    slot = "account_number"

    def question_key(self, tracker: Tracker) -> str:
        return (
            "ask_account_number_again"
            if _asked_before(tracker, self.name())
            else "ask_account_number"
        )


class AskArrangementChoice(AskSlot):
    slot = "arrangement_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = messages.language(tracker)
        offer = tracker.get_slot("arrangement_options") or {}
        amount = messages.money(offer.get("amount_due", "0"))
        lines = [messages.text(lang, "arrangement_intro", amount=amount)]
        for number, option in enumerate(offer.get("options") or [], start=1):
            lines.append(f"{number}) " + describe_option(lang, option))
        if offer.get("sb998"):
            lines.append(messages.text(lang, "arrangement_sb998"))
        lines.append(messages.text(lang, "ask_arrangement_choice"))
        dispatcher.utter_message(text="\n".join(lines))
        return []


def _asked_before(tracker: Tracker, action_name: str) -> bool:
    # Asked earlier within this request (since the form was last activated).
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            return False
        if event.get("event") == "action" and event.get("name") == action_name:
            return True
    return False


# rasa_sdk finds actions among Action's subclasses; keep references so they live.
SIMPLE_QUESTIONS = [
    type(f"Ask_{_slot}", (AskSlot,), {"slot": _slot})
    for _slot in (
        "zip_code",
        "service_address",
        "start_date",
        "customer_name",
        "stop_date",
        "forwarding_address",
        "repair_date",
    )
]
