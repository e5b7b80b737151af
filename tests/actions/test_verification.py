"""Identity verification through request_form, against the real gateway and database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from tests.actions.helpers import (
    DANA,
    UNKNOWN,
    activating,
    answering,
    open_conversation,
    stored,
)
from tests.utils.action_server import ActionClient, slots_set, texts, tracker_state


def test_session_start_copies_the_gateways_metadata(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA, channel="voice")
    tracker = tracker_state(key, slots={"session_started_metadata": {
        "channel": "voice", "language": "es", "conversation_id": key, "caller": DANA}})
    result = actions.run("action_session_start", tracker)
    assert result["events"][0]["event"] == "session_started"
    assert slots_set(result) == {"channel": "voice", "language": "es", "caller_matched": True,
                                 "verified": False}
    last = result["events"][-1]
    assert (last["event"], last["name"]) == ("action", "action_listen")


def test_unknown_sender_is_not_matched(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    result = actions.run("action_session_start", tracker_state(key))
    assert slots_set(result)["caller_matched"] is False


def test_spoken_zip_verifies_a_matched_caller(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA, channel="voice")
    tracker = answering(key, "um nine five six one six", requested="verification_factor",
                        pending="check_balance")
    result = actions.run("validate_request_form", tracker)
    slots = slots_set(result)
    assert slots["verified"] is True
    assert slots["requested_slot"] is None  # nothing else to ask for a balance
    assert "verified" in texts(result)
    assert stored(seeded, key).verification_tier == 1


def test_wrong_answer_asks_again_and_counts(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA)
    result = actions.run("validate_request_form", answering(
        key, "4018", requested="verification_factor", pending="check_balance"))
    slots = slots_set(result)
    assert slots["verification_factor"] is None
    assert slots["requested_slot"] == "verification_factor"
    assert "2 more" in texts(result)
    assert stored(seeded, key).verification_tier == 0


def test_third_wrong_answer_ends_the_form_locked(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA)
    for wrong in ("95618", "1111"):
        actions.run("validate_request_form", answering(
            key, wrong, requested="verification_factor", pending="check_balance"))
    result = actions.run("validate_request_form", answering(
        key, "95999", requested="verification_factor", pending="check_balance"))
    slots = slots_set(result)
    assert slots["verification_locked"] is True
    assert slots["requested_slot"] is None


def test_a_non_answer_is_not_taken_as_one(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA)
    result = actions.run("validate_request_form", answering(
        key, "what are your office hours", requested="verification_factor",
        pending="check_balance", intent="office_info"))
    # Nothing extracted: Rasa rejects the form and the rules answer the side question.
    assert "verified" not in slots_set(result)
    assert result["responses"] == []


def test_account_number_given_before_being_asked_is_used(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA)
    entity = [{"entity": "account_number", "value": "1000417", "start": 25, "end": 32}]
    tracker = activating(key, "whats my balance on acct 1000417", "check_balance",
                         slots={"account_number": "1000417"}, entities=entity)
    result = actions.run("validate_request_form", tracker)
    slots = slots_set(result)
    assert slots["pending_intent"] == "check_balance"
    assert slots["verified"] is True
    assert stored(seeded, key).verification_tier == 1


def test_unknown_sender_gives_account_number_and_zip(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    first = actions.run("validate_request_form", answering(
        key, "it's 100-1139", requested="account_number", pending="make_payment",
        slots={"caller_matched": False}))
    assert slots_set(first) == {"account_number": "1001139", "requested_slot": "zip_code"}
    second = actions.run("validate_request_form", answering(
        key, "95616", requested="zip_code", pending="make_payment",
        slots={"caller_matched": False, "account_number": "1001139"}))
    assert slots_set(second)["verified"] is True
    assert stored(seeded, key).verification_tier == 1


def test_change_of_mind_inside_the_form_switches_the_request(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA)
    result = actions.run("validate_request_form", answering(
        key, "actually theres water gushing out of the street on oak",
        requested="verification_factor", pending="check_balance", intent="report_emergency"))
    slots = slots_set(result)
    assert slots["pending_intent"] == "report_emergency"
    # An emergency needs no verification: the form asks where it is instead.
    assert slots["requested_slot"] == "address"
