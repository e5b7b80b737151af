"""Who handles what: the lowest CSR level and the priority for each kind of work.

From the district's CSR job description (shared/design.md, "Escalation routing").
"""

from __future__ import annotations

import re

LEVELS = ("I", "II", "III", "Senior", "manager")

EMERGENCY, HIGH, NORMAL, LOW = 0, 1, 2, 3

_LEVEL_BY_INTENT = {
    "human_agent": "I",
    "greet": "I",
    "help": "I",
    "office_info": "I",
    "start_service": "I",
    "check_balance": "I",
    "make_payment": "I",
    "outage": "I",
    "water_quality": "I",
    "report_emergency": "I",
    "rebate": "I",
    "update_contact": "I",
    "callback": "I",
    "out_of_scope": "I",
    "billing_dispute": "II",
    "leak_adjustment": "II",
    "payment_arrangement": "II",
    "refund": "II",
    "service_restoration": "II",
    "stop_service": "II",
    "autopay": "II",
    "complaint": "III",
    "bankruptcy": "III",
    "property_sale": "III",
    "commercial_connection": "III",
}

_PRIORITY_BY_INTENT = {
    "report_emergency": EMERGENCY,
    "service_restoration": HIGH,
    "outage": HIGH,
    "water_quality": HIGH,
    "rebate": LOW,
    "office_info": LOW,
}

# Words that move a case up: bankruptcy/foreclosure/sale/tax roll to CSR III,
# complaints about staff or repeated complaints to a Senior CSR.
_CSR_III_WORDS = re.compile(
    r"bankrupt|foreclos|escrow|property sale|selling (the|my) (house|home|property)|tax[- ]roll"
    r"|commercial|quiebra|embargo|venta de la (casa|propiedad)",
    re.IGNORECASE,
)
_SENIOR_WORDS = re.compile(
    r"\b(rude|employee|staff|worker|supervisor|manager|third time|again and again|lawyer"
    r"|attorney|grosero|empleado|trabajador|abogado)\b",
    re.IGNORECASE,
)


def level_rank(level: str) -> int:
    """Order of levels: a CSR sees tickets of their level and below."""
    return LEVELS.index(level)


def visible_levels(level: str) -> tuple[str, ...]:
    """Levels a CSR of ``level`` may take."""
    return LEVELS[: level_rank(level) + 1]


def route(intent: str, text: str = "") -> tuple[str, int]:
    """``(level, priority)`` for a hand-off of ``intent`` with the customer's words ``text``."""
    level = _LEVEL_BY_INTENT.get(intent, "I")
    if intent == "complaint" and _SENIOR_WORDS.search(text):
        level = "Senior"
    elif _CSR_III_WORDS.search(text) and level_rank(level) < level_rank("III"):
        level = "III"
    return level, _PRIORITY_BY_INTENT.get(intent, NORMAL)
