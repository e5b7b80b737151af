"""Tier-0 answers from the district file (through the gateway) and the language switch."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import messages
from actions.gateway_client import GatewayError, GatewayRefused, gateway

log = logging.getLogger(__name__)


async def _district_facts(dispatcher: CollectingDispatcher, lang: str) -> dict[str, Any] | None:
    """The district file's facts from the gateway, or None after apologising."""
    try:
        return await gateway().district()
    except (GatewayError, GatewayRefused) as exc:
        log.warning("district facts unavailable: %s", exc)
        dispatcher.utter_message(text=messages.text(lang, "facts_unavailable"))
        return None


class ActionOfficeInfo(Action):
    """Office address, hours, holidays, phone and email."""

    def name(self) -> str:
        return "action_office_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = messages.language(tracker)
        district = await _district_facts(dispatcher, lang)
        if district is None:
            return []
        lines = [
            messages.text(
                lang,
                "office_info",
                address=district["office_address"],
                hours=district["hours_text"][lang],
                phone=district["phone_display"],
                email=district["email"],
            )
        ]
        lines.append(
            messages.text(
                lang, "office_open_now" if district.get("open_now") else "office_closed_now"
            )
        )
        holidays = district.get("upcoming_holidays") or []
        if holidays:
            names = ", ".join(
                f"{holiday['name'][lang]} ({messages.day(lang, holiday['date'])})"
                for holiday in holidays[:2]
            )
            lines.append(messages.text(lang, "office_holidays", holidays=names))
        if district.get("directions", {}).get(lang):
            lines.append(district["directions"][lang])
        dispatcher.utter_message(text=" ".join(lines))
        return []


class ActionRebate(Action):
    """Conservation rebates and free supplies from the district file."""

    def name(self) -> str:
        return "action_rebate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = messages.language(tracker)
        district = await _district_facts(dispatcher, lang)
        if district is None:
            return []
        lines = [messages.text(lang, "rebates_intro")]
        lines += [
            f"- {rebate['name'][lang]}: {rebate['description'][lang]}"
            for rebate in district.get("rebates", [])
        ]
        lines.append(
            messages.text(
                lang, "rebates_apply", website=district["website"], phone=district["phone_display"]
            )
        )
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionChangeLanguage(Action):
    """Switch English <-> Spanish (or to the language the customer names)."""

    def name(self) -> str:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        said = (tracker.latest_message.get("text") or "").lower()
        current = messages.language(tracker)
        if any(word in said for word in ("spanish", "español", "espanol", "castellano")):
            target = "es"
        elif any(word in said for word in ("english", "inglés", "ingles")):
            target = "en"
        else:
            target = "en" if current == "es" else "es"
        return [SlotSet("language", target)]
