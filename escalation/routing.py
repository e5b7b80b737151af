"""Who may handle what: routing levels, priorities and the role rules of the CSR queue.

Levels come from the district's CSR job description (shared/design.md,
"Escalation routing"): CSR I < II < III < Senior < manager. A CSR sees and may
take tickets of their own level and below; only a Senior CSR or a manager may
reassign a ticket to someone else or read the supervisor page.
"""

from __future__ import annotations

import re

from accounts.routing import LEVELS, level_rank, visible_levels
from accounts.routing import route as _base_route

__all__ = [
    "DISPOSITIONS",
    "EMERGENCY",
    "HIGH",
    "LEVELS",
    "LOW",
    "NORMAL",
    "PRIORITY_NAMES",
    "SUPERVISOR_LEVELS",
    "can_reassign",
    "can_see",
    "higher_levels",
    "is_supervisor",
    "level_rank",
    "route",
    "visible_levels",
]

EMERGENCY, HIGH, NORMAL, LOW = 0, 1, 2, 3
PRIORITY_NAMES = {EMERGENCY: "emergency", HIGH: "high", NORMAL: "normal", LOW: "low"}
SUPERVISOR_LEVELS = ("Senior", "manager")

#: Disposition codes a CSR picks when resolving (the district's wrap-up codes).
DISPOSITIONS: dict[str, str] = {
    "answered": "Question answered",
    "payment_taken": "Payment taken",
    "arrangement_made": "Payment arrangement made",
    "adjustment_approved": "Adjustment or credit approved",
    "adjustment_denied": "Adjustment or credit denied",
    "service_request_created": "Service request / work order created",
    "account_updated": "Account updated",
    "callback_completed": "Called the customer back",
    "no_response": "Customer did not respond",
    "duplicate": "Duplicate of another ticket",
    "referred": "Referred to another department",
    "emergency_dispatched": "Emergency crew dispatched",
}

# Routing additions on top of the shared table in accounts.routing: the rest of the
# design table, and words that make any hand-off urgent or raise its level.
_EXTRA_LEVELS = {
    "callback_request": "I",
    "refund": "II",
    "final_bill": "II",
    "suspension": "III",
    "tax_roll": "III",
    "difficult_case": "III",
    "staff_complaint": "Senior",
    "escalated_complaint": "Senior",
    "reassignment": "Senior",
}
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
        intent: The intent the bot acted on (shared/contract/intents.yml) or a
            ticket-only kind such as ``refund`` or ``staff_complaint``.
        text: The customer's words and the bot's summary (matched for emergencies,
            bankruptcy/sale/tax-roll cases and complaints about staff).
        prior_tickets: Tickets this customer had about the same matter recently; a
            third complaint is an escalated complaint (Senior).

    Returns:
        The lowest level that may take the ticket and its priority (0 = emergency).
    """
    if intent in _EXTRA_LEVELS:
        level, priority = _EXTRA_LEVELS[intent], NORMAL
    else:
        level, priority = _base_route(intent, text)
    if _SUSPENSION_WORDS.search(text) and level_rank(level) < level_rank("III"):
        level = "III"
    if intent == "complaint" and prior_tickets >= 2:
        level = "Senior"
    if intent == "report_emergency" or _EMERGENCY_WORDS.search(text):
        priority = EMERGENCY
    elif _URGENT_WORDS.search(text):
        priority = min(priority, HIGH)
    return level, priority


def can_see(user_level: str, ticket_level: str) -> bool:
    """Whether a CSR of ``user_level`` may see and take a ticket routed to ``ticket_level``."""
    if user_level not in LEVELS or ticket_level not in LEVELS:
        return False
    return level_rank(ticket_level) <= level_rank(user_level)


def is_supervisor(user_level: str) -> bool:
    """Senior CSRs and managers: reassign, supervise, export."""
    return user_level in SUPERVISOR_LEVELS


def can_reassign(user_level: str) -> bool:
    """Only a Senior CSR or a manager may hand a ticket to someone else."""
    return is_supervisor(user_level)


def higher_levels(level: str) -> tuple[str, ...]:
    """Levels a ticket at ``level`` may be escalated to."""
    return LEVELS[level_rank(level) + 1 :]
