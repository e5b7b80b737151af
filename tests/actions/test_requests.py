"""action_complete_request and the other actions, against the real gateway and database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import PaymentArrangement, ServiceRequest, Ticket
from tests.actions.helpers import (
    DANA,
    JAMES,
    LINH,
    MARIA,
    ROBERT,
    UNKNOWN,
    answering,
    completing,
    open_conversation,
    stored,
)
from tests.utils.action_server import (
    ActionClient,
    ActionServer,
    customs,
    load_domain,
    slots_set,
    texts,
    tracker_state,
    user_event,
)

VERIFIED = {"verified": True}


# -- billing -------------------------------------------------------------------------


def test_balance_in_english(actions: ActionClient, seeded: Session, clock: FixedClock) -> None:
    key = open_conversation(seeded, clock, DANA, verified_account="1000417")
    said = texts(actions.run("action_complete_request",
                             completing(key, "check_balance", slots=VERIFIED)))
    assert "Your balance is $84.20, due December 6." in said
    assert "last payment of $79.55 on November 6" in said
    assert "past due" not in said


def test_balance_in_spanish_with_past_due(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, MARIA, verified_account="1000822")
    said = texts(actions.run("action_complete_request", completing(
        key, "check_balance", slots={**VERIFIED, "language": "es"})))
    assert "Su saldo es de $212.40" in said
    assert "$212.40 está vencido (64 días de atraso)" in said


def test_balance_says_autopay_will_draft_it(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, LINH, verified_account="1001560")
    said = texts(actions.run("action_complete_request",
                             completing(key, "check_balance", slots=VERIFIED)))
    assert "$67.31" in said and "AutoPay" in said


def test_voice_payment_is_a_pay_payload(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA, channel="voice", verified_account="1000417")
    result = actions.run("action_complete_request", completing(
        key, "make_payment", slots={**VERIFIED, "channel": "voice"}))
    assert customs(result) == [{"type": "pay", "amount": "84.20", "currency": "usd",
                                "description": "Valley Springs Water District bill payment",
                                "language": "en"}]
    assert "keypad" in texts(result)


def test_sms_payment_is_a_link_with_the_account(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA, verified_account="1000417")
    result = actions.run("action_complete_request", completing(key, "make_payment", slots=VERIFIED))
    said = texts(result)
    assert "https://pay.valleysprings-water.example.com/?account=1000417" in said
    assert "never send card numbers" in said
    assert customs(result) == []


def test_autopay_status(actions: ActionClient, seeded: Session, clock: FixedClock) -> None:
    linh = open_conversation(seeded, clock, LINH, verified_account="1001560")
    said = texts(actions.run("action_complete_request",
                             completing(linh, "autopay", slots=VERIFIED)))
    assert "enrolled in AutoPay" in said and "paperless" in said
    dana = open_conversation(seeded, clock, DANA, verified_account="1000417")
    said = texts(actions.run("action_complete_request",
                             completing(dana, "autopay", slots=VERIFIED)))
    assert "not on AutoPay" in said
    on_call = texts(actions.run("action_complete_request", completing(
        dana, "autopay", slots={**VERIFIED, "channel": "voice"})))
    assert "not on AutoPay" in on_call and "https://" not in on_call


def test_restoration_tells_the_amount_and_how_to_pay(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, JAMES, verified_account="1001139")
    said = texts(actions.run("action_complete_request",
                             completing(key, "service_restoration", slots=VERIFIED)))
    assert "$356.18" in said and "$311.18" in said and "$45.00" in said
    assert "?account=1001139" in said


def test_payment_arrangement_offered_chosen_and_recorded(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, MARIA, verified_account="1000822")
    slots = {**VERIFIED, "language": "es"}
    # The form fetches the options once verified and asks which one.
    asked = actions.run("validate_request_form", tracker_state(
        key, slots={**slots, "pending_intent": "payment_arrangement"},
        events=[user_event("necesito un plan de pagos", "payment_arrangement"),
                {"event": "action", "name": "request_form"}],
        active_loop="request_form"))
    offer = slots_set(asked)["arrangement_options"]
    assert [o["id"] for o in offer["options"]] == ["extension-30", "installments-3",
                                                   "installments-12"]
    assert slots_set(asked)["requested_slot"] == "arrangement_choice"
    question = actions.run("action_ask_arrangement_choice", tracker_state(
        key, slots={**slots, "arrangement_options": offer}))
    assert "2) Un plan de pagos: 3 pagos mensuales de $70.80" in texts(question)
    assert "SB 998" in texts(question)
    chose = actions.run("validate_request_form", answering(
        key, "la 2", requested="arrangement_choice", pending="payment_arrangement",
        slots={**slots, "arrangement_options": offer}))
    assert slots_set(chose)["arrangement_choice"] == "installments-3"
    done = actions.run("action_complete_request", completing(
        key, "payment_arrangement",
        slots={**slots, "arrangement_options": offer, "arrangement_choice": "installments-3"}))
    assert "Registré el acuerdo" in texts(done)
    row = seeded.scalars(select(PaymentArrangement)).one()
    assert row.kind == "installment" and row.terms["months"] == 3


def test_no_arrangement_option_wanted_goes_to_a_csr_ii(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, MARIA, verified_account="1000822")
    result = actions.run("action_complete_request", completing(
        key, "payment_arrangement",
        slots={**VERIFIED, "arrangement_options": {"options": [{"id": "extension-30"}]},
               "arrangement_choice": "none"}))
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.level == "II" and ticket.intent == "payment_arrangement"
    assert customs(result)[-1]["type"] == "handoff"


def test_locked_verification_hands_off(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA)
    result = actions.run("action_complete_request", completing(
        key, "check_balance", slots={"verification_locked": True}))
    said = texts(result)
    assert "wasn't able to verify" in said and "$84.20" not in said
    assert stored(seeded, key).status == "handed_off"
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.verification_tier == 0 and "could not be verified" in ticket.summary


# -- service ---------------------------------------------------------------------------


def test_outage_known_for_the_address(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    said = texts(actions.run("action_complete_request", completing(
        key, "outage", slots={"address": "512 Oak Street"}, text="no water on oak st")))
    assert said.startswith("Yes, we know about a problem")
    assert "We expect water to be back by" in said
    assert seeded.scalars(select(ServiceRequest)).first() is None


def test_outage_unknown_becomes_a_report(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    said = texts(actions.run("action_complete_request", completing(
        key, "outage", slots={"address": "3 Elm Road"}, text="low pressure since noon")))
    request = seeded.scalars(select(ServiceRequest)).one()
    assert request.type == "no_water" and request.description == "low pressure since noon"
    assert request.reference in said


def test_boil_water_notice_in_spanish(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, LINH, verified_account="1001560")
    said = texts(actions.run("action_complete_request", completing(
        key, "water_quality", slots={**VERIFIED, "language": "es"})))
    assert said.startswith("Hay un aviso vigente")
    assert "hierva el agua" in said


def test_emergency_report(actions: ActionClient, seeded: Session, clock: FixedClock) -> None:
    key = open_conversation(seeded, clock, UNKNOWN, channel="voice")
    said = texts(actions.run("action_complete_request", completing(
        key, "report_emergency", slots={"address": "Oak Street and 5th", "channel": "voice"},
        text="water is gushing out of the street")))
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.priority == 0 and ticket.intent == "report_emergency"
    request = seeded.scalars(select(ServiceRequest)).one()
    assert request.reference in said and "911" in said
    assert request.address == "Oak Street and 5th"


def test_stop_service_creates_request_and_ticket(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, ROBERT, verified_account="1002001")
    said = texts(actions.run("action_complete_request", completing(key, "stop_service", slots={
        **VERIFIED, "stop_date": "December 15", "forwarding_address": "PO Box 9, Reno NV"})))
    request = seeded.scalars(select(ServiceRequest)).one()
    assert request.type == "stop_service" and request.details["stop_date"] == "December 15"
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.level == "II"
    assert request.reference in said and "PO Box 9, Reno NV" in said
    assert stored(seeded, key).status == "open"


def test_start_service(actions: ActionClient, seeded: Session, clock: FixedClock) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    said = texts(actions.run("action_complete_request", completing(key, "start_service", slots={
        "service_address": "77 Pine Street", "start_date": "next Monday",
        "customer_name": "Ana Ruiz"})))
    request = seeded.scalars(select(ServiceRequest)).one()
    assert request.type == "start_service" and request.details["customer_name"] == "Ana Ruiz"
    assert seeded.scalars(select(Ticket)).one().level == "I"
    assert "77 Pine Street" in said


# -- hand-off, fallback, district facts ---------------------------------------------------


def test_dispute_hands_off_with_a_summary(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, ROBERT, verified_account="1002001")
    tracker = completing(key, "billing_dispute", slots={
        **VERIFIED, "issue_details": "this bill is 4x what I usually pay"},
        text="my bill is way too high")
    result = actions.run("action_complete_request", tracker)
    said = texts(result)
    assert "leak" in said and "reference number" in said
    payload = customs(result)[-1]
    ticket = seeded.get(Ticket, payload["ticket_id"])
    assert ticket is not None and ticket.level == "II" and ticket.intent == "billing_dispute"
    assert "Identity verified (tier 1)" in ticket.summary
    assert "this bill is 4x what I usually pay" in ticket.summary
    assert stored(seeded, key).status == "handed_off"
    assert slots_set(result)["pending_intent"] is None


def test_human_agent_on_a_call_in_office_hours_is_a_live_transfer(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, DANA, channel="voice")
    result = actions.run("action_handoff", tracker_state(
        key, slots={"channel": "voice"}, events=[user_event("agent please", "human_agent")]))
    assert customs(result)[-1]["live_transfer"] is True
    assert "Please hold" in texts(result)


def test_second_misunderstanding_in_a_row_hands_off(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    once = actions.run("action_fallback", tracker_state(
        key, events=[user_event("blorp", "nlu_fallback")]))
    assert "didn't quite understand" in texts(once) and customs(once) == []
    twice = actions.run("action_fallback", tracker_state(key, events=[
        user_event("blorp", "nlu_fallback"), {"event": "action", "name": "action_fallback"},
        user_event("can you fix my car", "out_of_scope")]))
    assert customs(twice)[-1]["type"] == "handoff"
    assert stored(seeded, key).status == "handed_off"


def test_office_info_from_the_district_file(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    english = texts(actions.run("action_office_info", tracker_state(key)))
    assert "1250 Harbor Boulevard, Davis, CA 95616" in english
    assert "Monday to Friday, 8 AM to 5 PM" in english
    assert "The office is open right now." in english
    assert "Thanksgiving Day (November 26)" in english
    spanish = texts(actions.run("action_office_info", tracker_state(key, slots={"language": "es"})))
    assert "de lunes a viernes, de 8 a. m. a 5 p. m." in spanish


def test_rebates_from_the_district_file(
    actions: ActionClient, seeded: Session, clock: FixedClock
) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    said = texts(actions.run("action_rebate", tracker_state(key, slots={"language": "es"})))
    assert "Reembolso por inodoro de alta eficiencia" in said
    assert said.count("\n- ") == 4


def test_change_language(actions: ActionClient, seeded: Session, clock: FixedClock) -> None:
    key = open_conversation(seeded, clock, UNKNOWN)
    to_spanish = actions.run("action_change_language", tracker_state(
        key, events=[user_event("en español por favor", "change_language")]))
    assert slots_set(to_spanish) == {"language": "es"}
    toggled = actions.run("action_change_language", tracker_state(
        key, slots={"language": "es"}, events=[user_event("cambiar idioma", "change_language")]))
    assert slots_set(toggled) == {"language": "en"}


# -- the gateway is down ----------------------------------------------------------------------


def test_gateway_down_means_an_apology_not_a_crash(
    broken_action_server: ActionServer,
) -> None:
    client = ActionClient(broken_action_server, load_domain())
    key = "0" * 32
    said = texts(client.run("action_complete_request", completing(
        key, "check_balance", slots=VERIFIED)))
    assert "trouble reaching our account system" in said
    assert "follow up" in said
    info = texts(client.run("action_office_info", tracker_state(key)))
    assert "can't look that up right now" in info
    handoff = texts(client.run("action_handoff", tracker_state(key)))
    assert "follow up" in handoff
    start = client.run("action_session_start", tracker_state(key))
    assert slots_set(start)["caller_matched"] is False
