from __future__ import annotations

from accounts.routing import route, visible_levels


def test_routing_levels() -> None:
    assert route("billing_dispute") == ("II", 2)
    assert route("report_emergency")[1] == 0
    assert route("complaint", "the meter reader was rude to me")[0] == "Senior"
    assert route("complaint", "construction noise at night")[0] == "III"
    assert route("stop_service", "we are in escrow, selling the house")[0] == "III"
    assert route("human_agent")[0] == "I"
    assert visible_levels("II") == ("I", "II")
