"""Tier-1 answers about money: balance, paying, arrangements, AutoPay, restoration."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import messages
from actions.gateway_client import gateway
from actions.handoff import hand_off

Events = list[EventType]


def _zero(amount: Any) -> bool:
    try:
        return float(amount or 0) <= 0
    except ValueError:
        return False


async def check_balance(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Amount due, due date, past due, last payment, AutoPay and lock-off status."""
    lang = messages.language(tracker)
    summary = await gateway().balance(tracker.sender_id)
    lines = [balance_sentence(lang, summary)]
    if not _zero(summary.get("past_due")):
        lines.append(
            messages.text(
                lang,
                "balance_past_due",
                past_due=messages.money(summary["past_due"]),
                days=summary.get("days_delinquent", 0),
            )
        )
    if summary.get("last_payment_amount"):
        lines.append(
            messages.text(
                lang,
                "balance_last_payment",
                amount=messages.money(summary["last_payment_amount"]),
                date=messages.day(lang, summary.get("last_payment_at")),
            )
        )
    if summary.get("autopay") and not _zero(summary.get("amount_due")):
        lines.append(messages.text(lang, "balance_autopay"))
    if summary.get("locked_off"):
        lines.append(
            messages.text(
                lang, "balance_locked_off", amount=messages.money(summary["amount_to_restore"])
            )
        )
    lines.append(messages.text(lang, "anything_else"))
    dispatcher.utter_message(text=" ".join(lines))
    return []


def balance_sentence(lang: str, summary: dict[str, Any]) -> str:
    """The balance sentence ("Your balance is $84.20, due December 8.") or that none is owed."""
    if _zero(summary.get("amount_due")):
        return messages.text(lang, "balance_zero")
    if summary.get("due_date"):
        return messages.text(
            lang,
            "balance_due",
            amount=messages.money(summary["amount_due"]),
            date=messages.day(lang, summary["due_date"]),
        )
    return messages.text(lang, "balance_due_no_date", amount=messages.money(summary["amount_due"]))


async def make_payment(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Voice: a <Pay> payload for the amount due. SMS/email: a payment link."""
    lang = messages.language(tracker)
    if messages.channel(tracker) == "voice":
        summary = await gateway().balance(tracker.sender_id)
        if _zero(summary.get("amount_due")):
            dispatcher.utter_message(text=messages.text(lang, "payment_nothing_due"))
            return []
        amount = str(summary["amount_due"])
        dispatcher.utter_message(
            text=messages.text(lang, "payment_voice", amount=messages.money(amount))
        )
        dispatcher.utter_message(
            json_message={
                "type": "pay",
                "amount": amount,
                "currency": "usd",
                "description": messages.text(lang, "payment_description"),
                "language": lang,
            }
        )
        return []
    link = await gateway().payment_link(tracker.sender_id)
    if _zero(link.get("amount")):
        dispatcher.utter_message(
            text=messages.text(lang, "payment_link_nothing_due", url=link["url"])
        )
        return []
    dispatcher.utter_message(
        text=messages.text(
            lang, "payment_link", amount=messages.money(link["amount"]), url=link["url"]
        )
    )
    return []


async def autopay(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Whether the account is on AutoPay / paperless, and how to change it."""
    lang = messages.language(tracker)
    summary = await gateway().balance(tracker.sender_id)
    link = await gateway().payment_link(tracker.sender_id)
    # A web address read aloud helps nobody: on a call, offer a representative.
    spoken = "_voice" if messages.channel(tracker) == "voice" else ""
    if summary.get("autopay"):
        owed = not _zero(summary.get("amount_due"))
        key = "autopay_enrolled" if owed else "autopay_enrolled_zero"
        text = messages.text(
            lang,
            key,
            amount=messages.money(summary.get("amount_due", "0")),
            date=messages.day(lang, summary.get("due_date")),
        )
        text += " " + messages.text(lang, f"autopay_cancel{spoken}", url=link["url"])
    else:
        text = messages.text(lang, f"autopay_not_enrolled{spoken}", url=link["url"])
    paperless = summary.get("paperless")
    if paperless is not None:
        text += " " + messages.text(lang, "paperless_on" if paperless else "paperless_off")
    dispatcher.utter_message(text=text)
    return []


async def service_restoration(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Lock-off status, amount to restore, how to pay; the restoration request once paid."""
    lang = messages.language(tracker)
    status = await gateway().restoration(tracker.sender_id)
    if not status.get("locked_off"):
        dispatcher.utter_message(text=messages.text(lang, "restoration_not_locked"))
        return []
    if status.get("open_request"):
        dispatcher.utter_message(
            text=messages.text(lang, "restoration_already", reference=status["open_request"])
        )
        return []
    if not _zero(status.get("amount_to_restore")):
        how = (
            messages.text(lang, "restoration_pay_voice")
            if messages.channel(tracker) == "voice"
            else messages.text(lang, "restoration_pay_link", url=status.get("payment_url", ""))
        )
        dispatcher.utter_message(
            text=messages.text(
                lang,
                "restoration_amount",
                amount=messages.money(status["amount_to_restore"]),
                balance=messages.money(status.get("balance_due", "0")),
                fee=messages.money(status.get("reconnection_fee", "0")),
            )
            + " "
            + how
        )
        return []
    request = await gateway().request_restoration(tracker.sender_id)
    dispatcher.utter_message(
        text=messages.text(lang, "restoration_requested", reference=request["reference"])
    )
    return []


async def record_arrangement(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Record the chosen arrangement; anything the bot may not offer goes to a CSR II."""
    lang = messages.language(tracker)
    choice = tracker.get_slot("arrangement_choice")
    offer = tracker.get_slot("arrangement_options") or {}
    if not choice or choice == "none" or not offer.get("options"):
        reason = (
            "the customer wants an arrangement other than the options the assistant may offer"
            if choice == "none"
            else "no arrangement option within policy applies: " + str(offer.get("reason") or "")
        )
        if offer.get("policy_text"):
            dispatcher.utter_message(text=str(offer["policy_text"].get(lang, "")))
        return await hand_off(dispatcher, tracker, intent="payment_arrangement", reason=reason)
    arrangement = await gateway().record_arrangement(tracker.sender_id, choice)
    dispatcher.utter_message(
        text=messages.text(
            lang,
            "arrangement_recorded",
            plan=describe_option(lang, arrangement),
            reference=arrangement.get("id"),
        )
    )
    return []


def describe_option(lang: str, option: dict[str, Any]) -> str:
    """One arrangement option in words."""
    if option.get("kind") == "extension":
        return messages.text(
            lang,
            "option_extension",
            days=option.get("days"),
            amount=messages.money(option.get("amount")),
            date=messages.day(lang, option.get("pay_by")),
        )
    return messages.text(
        lang,
        "option_installments",
        months=option.get("months"),
        amount=messages.money(option.get("installment_amount")),
        date=messages.day(lang, option.get("first_due")),
    )
