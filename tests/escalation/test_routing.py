"""Routing: intent and words to level and priority; who may see and reassign."""

from __future__ import annotations

import pytest

from escalation.routing import (
    EMERGENCY,
    HIGH,
    LOW,
    NORMAL,
    can_reassign,
    can_see,
    higher_levels,
    is_supervisor,
    route,
)


@pytest.mark.parametrize(
    ("intent", "text", "expected"),
    [
        ("human_agent", "", ("I", NORMAL)),
        ("office_info", "", ("I", LOW)),
        ("start_service", "", ("I", NORMAL)),
        ("billing_dispute", "", ("II", NORMAL)),
        ("leak_adjustment", "", ("II", NORMAL)),
        ("payment_arrangement", "", ("II", NORMAL)),
        ("refund", "", ("II", NORMAL)),
        ("stop_service", "", ("II", NORMAL)),
        ("service_restoration", "", ("II", HIGH)),
        ("payment_arrangement", "we are in foreclosure", ("III", NORMAL)),
        ("stop_service", "selling the house, escrow closes Friday", ("III", NORMAL)),
        ("human_agent", "question about the tax roll lien", ("III", NORMAL)),
        ("suspension", "", ("III", NORMAL)),
        ("complaint", "the meter reader left the gate open", ("III", NORMAL)),
        ("complaint", "your employee was rude", ("Senior", NORMAL)),
        ("staff_complaint", "", ("Senior", NORMAL)),
        ("report_emergency", "", ("I", EMERGENCY)),
        ("outage", "sewage coming up in my yard", ("I", EMERGENCY)),
        ("human_agent", "a car hit the hydrant and water is gushing", ("I", EMERGENCY)),
        ("billing_dispute", "I have no water and a baby at home", ("II", HIGH)),
    ],
)
def test_route(intent: str, text: str, expected: tuple[str, int]) -> None:
    assert route(intent, text) == expected


def test_repeated_complaint_goes_to_a_senior() -> None:
    assert route("complaint", "still no fix", prior_tickets=1)[0] == "III"
    assert route("complaint", "still no fix", prior_tickets=2)[0] == "Senior"


def test_visibility_and_roles() -> None:
    assert can_see("I", "I") and not can_see("I", "II")
    assert can_see("III", "II") and not can_see("III", "Senior")
    assert can_see("manager", "Senior")
    assert not can_see("bogus", "I") and not can_see("I", "bogus")
    assert [lvl for lvl in ("I", "II", "III", "Senior", "manager") if can_reassign(lvl)] == [
        "Senior",
        "manager",
    ]
    assert is_supervisor("Senior") and not is_supervisor("III")
    assert higher_levels("II") == ("III", "Senior", "manager")
    assert higher_levels("manager") == ()
