"""What each request needs before it can be carried out.

A request is named after the intent that started it. request_form asks for the
verification slots first when the request shows account data (tier 1, see
docs/contract/intents.yml), then for the request's own slots.
"""

from __future__ import annotations

# Requests that reveal or change account data: verify the caller first.
TIER1 = frozenset(
    {
        "check_balance",
        "make_payment",
        "payment_arrangement",
        "autopay",
        "service_restoration",
        "update_contact",
        "billing_dispute",
        "leak_adjustment",
        "stop_service",
    }
)

# The request's own slots, asked in this order after verification.
OWN_SLOTS: dict[str, list[str]] = {
    "check_balance": [],
    "make_payment": [],
    "autopay": [],
    "service_restoration": [],
    "update_contact": [],
    "payment_arrangement": ["arrangement_choice"],
    "billing_dispute": ["issue_details"],
    "leak_adjustment": ["repair_date", "issue_details"],
    "complaint": ["issue_details"],
    "stop_service": ["stop_date", "forwarding_address"],
    "start_service": ["service_address", "start_date", "customer_name"],
    "outage": ["address"],
    "water_quality": ["address"],
    "report_emergency": ["address"],
}

# Requests about "my" service address: a verified caller's account address
# is used instead of asking (an emergency may be anywhere, so it always asks).
ACCOUNT_ADDRESS_OK = frozenset({"outage", "water_quality"})

FLOW_INTENTS = frozenset(OWN_SLOTS)
VERIFICATION_SLOTS = ("verification_factor", "account_number", "zip_code")
REQUEST_SLOTS = sorted({slot for slots in OWN_SLOTS.values() for slot in slots})

# Intents that interrupt a form question rather than answer it.
CONTROL_INTENTS = frozenset(
    {
        "human_agent",
        "change_language",
        "goodbye",
        "help",
        "bot_challenge",
        "office_info",
        "rebate",
        "deny",
    }
)
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
