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
    "callback_request": "I",
    "out_of_scope": "I",
    "billing_dispute": "II",
    "leak_adjustment": "II",
    "payment_arrangement": "II",
    "refund": "II",
    "final_bill": "II",
    "service_restoration": "II",
    "stop_service": "II",
    "autopay": "II",
    "complaint": "III",
    "bankruptcy": "III",
    "property_sale": "III",
    "commercial_connection": "III",
    "suspension": "III",
    "tax_roll": "III",
    "difficult_case": "III",
    "staff_complaint": "Senior",
    "escalated_complaint": "Senior",
    "reassignment": "Senior",
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


_EMERGENCY_WORDS = re.compile(
    r"main break|water (is )?(gushing|flooding|pouring)|gushing|geyser|sewer (backup|overflow)"
    r"|sewage (in|on|coming)|backed[- ]up sewer|hydrant (was )?(hit|knocked|broken|sheared)"
    r"|flood(ing|ed)|inundaci[oó]n|aguas negras|tuber[ií]a rota|hidrante",
    re.IGNORECASE,
)
_URGENT_WORDS = re.compile(
    r"\b(no water|without water|sin agua|medical|dialysis|oxygen|elderly|infant|baby)\b",
    re.IGNORECASE,
)
_SUSPENSION_WORDS = re.compile(r"suspen(d|sion)|tax[- ]?roll|lien", re.IGNORECASE)


def route(intent: str, text: str = "", *, prior_tickets: int = 0) -> tuple[str, int]:
    """``(level, priority)`` for a hand-off.

    Args:
        intent: The intent the bot acted on (docs/contract/intents.yml) or a
            ticket-only kind such as ``refund`` or ``staff_complaint``.
        text: The customer's words and the bot's summary (matched for emergencies,
            bankruptcy/sale/tax-roll cases and complaints about staff).
        prior_tickets: Tickets this customer had about the same matter recently; a
            third complaint is an escalated complaint (Senior).

    Returns:
        The lowest level that may take the ticket and its priority (0 = emergency).
    """
    level = _LEVEL_BY_INTENT.get(intent, "I")
    priority = _PRIORITY_BY_INTENT.get(intent, NORMAL)
    if intent == "complaint" and (_SENIOR_WORDS.search(text) or prior_tickets >= 2):
        level = "Senior"
    elif (_CSR_III_WORDS.search(text) or _SUSPENSION_WORDS.search(text)) and level_rank(
        level
    ) < level_rank("III"):
        level = "III"
    if intent == "report_emergency" or _EMERGENCY_WORDS.search(text):
        priority = EMERGENCY
    elif _URGENT_WORDS.search(text):
        priority = min(priority, HIGH)
    return level, priority
