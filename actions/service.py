"""Tier-0 service answers and reports: outages, water quality, emergencies, start/stop service."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import messages
from actions.gateway_client import gateway

Events = list[EventType]

_OUTAGE_KINDS = ("unplanned_outage", "planned_work")
_QUALITY_KINDS = ("boil_water", "water_quality")


def request_text(tracker: Tracker, intent: str) -> str:
    """What the customer said when asking: the latest message classified as ``intent``."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name == intent and event.get("text"):
            return str(event["text"])
    return ""


def _address(tracker: Tracker) -> str | None:
    return tracker.get_slot("address") or None


def describe_notice(lang: str, notice: dict[str, Any]) -> str:
    """A notice's own text in ``lang`` plus its estimated restoration, when known."""
    text = str(notice.get(f"text_{lang}") or notice.get("text_en") or "").strip()
    if notice.get("estimated_restoration_local") and notice.get("kind") == "unplanned_outage":
        text += " " + messages.text(
            lang, "outage_eta", when=messages.moment(lang, notice["estimated_restoration_local"])
        )
    if notice.get("kind") == "planned_work" and notice.get("starts_at_local"):
        text += " " + messages.text(
            lang, "planned_when", when=messages.moment(lang, notice["starts_at_local"])
        )
    return text


async def outage(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Known outages and planned work for the address; else a no-water report."""
    return await _notices_or_report(
        dispatcher, tracker, intent="outage", kinds=_OUTAGE_KINDS, report_type="no_water"
    )


async def water_quality(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Active water-quality notices for the address; else a water-quality report."""
    return await _notices_or_report(
        dispatcher,
        tracker,
        intent="water_quality",
        kinds=_QUALITY_KINDS,
        report_type="water_quality",
    )


async def _notices_or_report(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    intent: str,
    kinds: tuple,
    report_type: str,
) -> Events:
    lang = messages.language(tracker)
    found = await gateway().notices(tracker.sender_id, address=_address(tracker))
    notices = [notice for notice in found.get("notices", []) if notice.get("kind") in kinds]
    if notices:
        lines = [messages.text(lang, f"{intent}_known")]
        lines += [describe_notice(lang, notice) for notice in notices]
        safety = [notice for notice in notices if notice.get("safety")]
        if safety and intent == "water_quality":
            lines.append(messages.text(lang, "boil_water_advice"))
        lines.append(messages.text(lang, "anything_else"))
        dispatcher.utter_message(text="\n".join(lines))
        return []
    created = await gateway().service_request(
        tracker.sender_id,
        {
            "type": report_type,
            "intent": intent,
            "address": _address(tracker),
            "description": request_text(tracker, intent) or intent.replace("_", " "),
            "ticket": False,
        },
    )
    dispatcher.utter_message(
        text=messages.text(lang, f"{intent}_reported", reference=created["reference"])
    )
    return []


async def report_emergency(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Urgent service request + emergency ticket (on-call paging), then safety advice."""
    lang = messages.language(tracker)
    created = await gateway().emergency(
        tracker.sender_id,
        {
            "address": _address(tracker),
            "description": request_text(tracker, "report_emergency") or "emergency report",
        },
    )
    dispatcher.utter_message(
        text=messages.text(lang, "emergency_received", reference=created["reference"])
        + " "
        + messages.text(lang, "emergency_safety")
    )
    return []


async def start_service(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """New service: a service request and a CSR I ticket to finish the account."""
    lang = messages.language(tracker)
    created = await gateway().service_request(
        tracker.sender_id,
        {
            "type": "start_service",
            "intent": "start_service",
            "address": tracker.get_slot("service_address"),
            "description": "Start service for {name} at {address} on {date}.".format(
                name=tracker.get_slot("customer_name"),
                address=tracker.get_slot("service_address"),
                date=tracker.get_slot("start_date"),
            ),
            "details": {
                "customer_name": tracker.get_slot("customer_name"),
                "start_date": tracker.get_slot("start_date"),
                "service_address": tracker.get_slot("service_address"),
            },
            "ticket": True,
        },
    )
    dispatcher.utter_message(
        text=messages.text(
            lang,
            "start_service_done",
            reference=created["reference"],
            address=tracker.get_slot("service_address"),
            date=tracker.get_slot("start_date"),
        )
    )
    return [SlotSet("service_address", None)]


async def stop_service(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Stop service / final bill: a service request and a CSR II ticket."""
    lang = messages.language(tracker)
    created = await gateway().service_request(
        tracker.sender_id,
        {
            "type": "stop_service",
            "intent": "stop_service",
            "address": None,
            "description": "Stop service on {date}; mail the final bill to {forwarding}.".format(
                date=tracker.get_slot("stop_date"),
                forwarding=tracker.get_slot("forwarding_address"),
            ),
            "details": {
                "stop_date": tracker.get_slot("stop_date"),
                "forwarding_address": tracker.get_slot("forwarding_address"),
            },
            "ticket": True,
        },
    )
    dispatcher.utter_message(
        text=messages.text(
            lang,
            "stop_service_done",
            reference=created["reference"],
            date=tracker.get_slot("stop_date"),
            forwarding=tracker.get_slot("forwarding_address"),
        )
    )
    return []
