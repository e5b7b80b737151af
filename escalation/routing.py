"""Who may handle what: routing levels, priorities and the role rules of the CSR queue.

Levels come from the district's CSR job description (shared/design.md,
"Escalation routing"): CSR I < II < III < Senior < manager. A CSR sees and may
take tickets of their own level and below; only a Senior CSR or a manager may
reassign a ticket to someone else or read the supervisor page.
"""

from __future__ import annotations

# The routing table itself lives with the ticket service (accounts.routing);
# this module adds the CSR-side rules: who may see, reassign, supervise.
from accounts.routing import EMERGENCY, HIGH, LEVELS, LOW, NORMAL, level_rank, route, visible_levels

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
