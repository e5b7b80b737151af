"""The internal API the Rasa actions call, over HTTP on a live gateway, SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import (
    Account,
    Conversation,
    Page,
    Payment,
    PaymentArrangement,
    ServiceRequest,
    Ticket,
    VerificationAttempt,
)
from accounts.services.conversations import get_or_open_conversation
from accounts.settings import DEMO_INTERNAL_TOKEN
from tests.utils.live_server import LiveServer

TOKEN = {"X-Internal-Token": DEMO_INTERNAL_TOKEN}
DANA, MARIA, JAMES, LINH, ROBERT = (
    "+15305550101", "+15305550102", "+15305550103", "+15305550104", "+15305550105",
)
UNKNOWN = "+15305550199"


@pytest.fixture
def api(seeded: Session, gateway: LiveServer) -> httpx.Client:
    with httpx.Client(base_url=f"{gateway.url}/internal", headers=TOKEN, timeout=10) as client:
        yield client


def conversation(session: Session, clock: FixedClock, sender: str, channel: str = "sms") -> str:
    conv, _ = get_or_open_conversation(
        session=session, channel=channel, external_id=sender, now=clock.now(),
        customer_address=sender,
    )
    session.commit()
    return conv.key


def verified(api: httpx.Client, session: Session, clock: FixedClock, sender: str,
             zip_code: str) -> str:
    key = conversation(session, clock, sender)
    answer = api.post(f"/conversations/{key}/verify", json={"factor": zip_code}).json()
    assert answer["verified"] is True
    return key


def refresh(session: Session, key: str) -> Conversation:
    session.expire_all()
    return session.scalars(select(Conversation).where(Conversation.key == key)).one()


# -- authentication ---------------------------------------------------------------------


def test_requests_without_the_shared_secret_are_refused(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, DANA)
    base = str(api.base_url).rstrip("/")
    assert httpx.get(f"{base}/conversations/{key}").status_code == 401
    wrong = httpx.get(f"{base}/conversations/{key}", headers={"X-Internal-Token": "guess"})
    assert wrong.status_code == 401
    assert httpx.get(f"{base}/district").status_code == 401
    assert api.get(f"/conversations/{key}").status_code == 200


def test_unknown_conversation_is_404(api: httpx.Client) -> None:
    assert api.get("/conversations/0123456789abcdef0123456789abcdef").status_code == 404


# -- identity ---------------------------------------------------------------------------------


def test_conversation_tells_whether_the_sender_is_on_file(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    known = api.get(f"/conversations/{conversation(seeded, clock, DANA)}").json()
    assert known["caller_matched"] is True
    assert known["candidate_accounts"] == 1
    assert known["verification_tier"] == 0
    unknown = api.get(f"/conversations/{conversation(seeded, clock, UNKNOWN)}").json()
    assert unknown["caller_matched"] is False


@pytest.mark.parametrize("answer", ["95616", "0417", "1000417", "100-0417"])
def test_matched_caller_verifies_with_zip_last4_or_number(
    api: httpx.Client, seeded: Session, clock: FixedClock, answer: str
) -> None:
    key = conversation(seeded, clock, DANA)
    result = api.post(f"/conversations/{key}/verify", json={"factor": answer}).json()
    assert result == {"verified": True, "tier": 1, "attempts_left": 3, "locked": False}
    stored = refresh(seeded, key)
    assert stored.verification_tier == 1
    account = seeded.get(Account, stored.account_id)
    assert account is not None and account.number == "1000417"


def test_three_wrong_answers_lock_verification(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, DANA)
    lefts = [
        api.post(f"/conversations/{key}/verify", json={"factor": wrong}).json()
        for wrong in ("95618", "1234", "95999")
    ]
    assert [r["attempts_left"] for r in lefts] == [2, 1, 0]
    assert lefts[-1]["locked"] is True and not any(r["verified"] for r in lefts)
    # The right answer no longer helps: a person has to.
    after = api.post(f"/conversations/{key}/verify", json={"factor": "95616"}).json()
    assert after["verified"] is False and after["locked"] is True
    assert refresh(seeded, key).verification_tier == 0
    failures = seeded.scalars(
        select(VerificationAttempt).where(VerificationAttempt.success.is_(False))
    ).all()
    assert len(failures) == 3


def test_unknown_sender_verifies_with_account_number_and_zip(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, UNKNOWN)
    refused = api.post(f"/conversations/{key}/verify", json={"factor": "95616"})
    assert refused.status_code == 422
    wrong_number = api.post(
        f"/conversations/{key}/verify", json={"account_number": "9999999", "zip": "95616"}
    ).json()
    assert wrong_number["verified"] is False and wrong_number["attempts_left"] == 2
    wrong_zip = api.post(
        f"/conversations/{key}/verify", json={"account_number": "1001139", "zip": "95618"}
    ).json()
    assert wrong_zip["verified"] is False and wrong_zip["attempts_left"] == 1
    right = api.post(
        f"/conversations/{key}/verify", json={"account_number": "1001139", "zip": "95616"}
    ).json()
    assert right["verified"] is True
    assert refresh(seeded, key).account_id is not None


def test_guessing_account_numbers_from_one_sender_is_limited(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, UNKNOWN)
    for number in ("9999991", "9999992", "9999993"):
        api.post(f"/conversations/{key}/verify", json={"account_number": number, "zip": "95616"})
    locked = api.post(
        f"/conversations/{key}/verify", json={"account_number": "1000417", "zip": "95616"}
    ).json()
    assert locked["locked"] is True and locked["verified"] is False


# -- billing ---------------------------------------------------------------------------------------


def test_balance_needs_tier_1(api: httpx.Client, seeded: Session, clock: FixedClock) -> None:
    key = conversation(seeded, clock, DANA)
    assert api.get(f"/conversations/{key}/balance").status_code == 403
    assert api.post(f"/conversations/{key}/payment-link").status_code == 403
    assert api.get(f"/conversations/{key}/arrangements").status_code == 403
    assert api.get(f"/conversations/{key}/restoration").status_code == 403


def test_balance_of_a_verified_conversation(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = verified(api, seeded, clock, DANA, "95616")
    balance = api.get(f"/conversations/{key}/balance").json()
    assert balance["amount_due"] == "84.20"
    assert balance["past_due"] == "0.00"
    assert balance["last_payment_amount"] == "79.55"
    assert balance["due_date"] == "2026-12-06"  # 12 days after the seeding day
    assert balance["autopay"] is False and balance["locked_off"] is False
    assert "account_number" not in balance


def test_payment_link_has_the_account_filled_in(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = verified(api, seeded, clock, DANA, "0417")
    link = api.post(f"/conversations/{key}/payment-link").json()
    assert link == {
        "url": "https://pay.valleysprings-water.example.com/?account=1000417",
        "amount": "84.20",
    }


def test_arrangement_options_follow_the_policy_and_are_recorded(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = verified(api, seeded, clock, MARIA, "95618")
    offer = api.get(f"/conversations/{key}/arrangements").json()
    assert offer["eligible"] is True and offer["sb998"] is True
    assert offer["amount_due"] == "212.40"
    ids = [option["id"] for option in offer["options"]]
    assert ids == ["extension-30", "installments-3", "installments-12"]
    three = offer["options"][1]
    assert three["installment_amount"] == "70.80"
    assert "60 days" in offer["policy_text"]["en"] and offer["policy_text"]["es"]

    assert api.post(f"/conversations/{key}/arrangements",
                    json={"option_id": "installments-48"}).status_code == 409
    recorded = api.post(f"/conversations/{key}/arrangements", json={"option_id": "installments-3"})
    assert recorded.status_code == 201
    assert recorded.json()["months"] == 3
    row = seeded.scalars(select(PaymentArrangement)).one()
    assert row.kind == "installment" and row.amount == Decimal("212.40")
    again = api.get(f"/conversations/{key}/arrangements").json()
    assert again["eligible"] is False and again["reason"] == "active_arrangement"


def test_restoration_needs_payment_first(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = verified(api, seeded, clock, JAMES, "95616")
    status = api.get(f"/conversations/{key}/restoration").json()
    assert status["locked_off"] is True
    assert status["amount_to_restore"] == "356.18"
    assert status["balance_due"] == "311.18" and status["reconnection_fee"] == "45.00"
    assert status["open_request"] is None
    assert api.post(f"/conversations/{key}/restoration").status_code == 409
    assert seeded.scalars(select(ServiceRequest)).first() is None


def test_restoration_request_after_paying_balance_and_fee(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = verified(api, seeded, clock, JAMES, "95616")
    account = seeded.scalars(select(Account).where(Account.number == "1001139")).one()
    seeded.add(Payment(account_id=account.id, amount=Decimal("356.18"), method="card",
                       posted_at=clock.now(), source_channel="web"))
    seeded.commit()
    created = api.post(f"/conversations/{key}/restoration")
    assert created.status_code == 201
    reference = created.json()["reference"]
    request = seeded.scalars(select(ServiceRequest).where(
        ServiceRequest.reference == reference)).one()
    assert request.type == "restoration" and request.account_id == account.id
    # Asking again does not create a second request.
    assert api.post(f"/conversations/{key}/restoration").json()["reference"] == reference


# -- service --------------------------------------------------------------------------------------


def _kinds(answer: dict[str, Any]) -> list[str]:
    return [notice["kind"] for notice in answer["notices"]]


def test_notices_by_typed_address_and_by_verified_account(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, UNKNOWN)
    oak = api.get(f"/conversations/{key}/notices", params={"address": "512 Oak St"}).json()
    assert _kinds(oak) == ["unplanned_outage"]
    assert oak["notices"][0]["estimated_restoration_local"].endswith("-08:00")
    assert oak["notices"][0]["text_es"]
    willow = api.get(f"/conversations/{key}/notices", params={"address": "88 Willow Way"}).json()
    assert "boil_water" in _kinds(willow)
    nowhere = api.get(f"/conversations/{key}/notices", params={"address": "3 Elm Road"}).json()
    assert nowhere["notices"] == []
    # Without an address, the verified account's address; unverified: 403.
    assert api.get(f"/conversations/{key}/notices").status_code == 403
    dana = verified(api, seeded, clock, DANA, "95616")
    assert _kinds(api.get(f"/conversations/{dana}/notices").json()) == ["unplanned_outage"]


def test_service_requests_and_tickets(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, UNKNOWN)
    report = api.post(f"/conversations/{key}/service-requests", json={
        "type": "no_water", "intent": "outage", "address": "3 Elm Road",
        "description": "no water since this morning",
    })
    assert report.status_code == 201 and report.json()["ticket_id"] is None
    start = api.post(f"/conversations/{key}/service-requests", json={
        "type": "start_service", "intent": "start_service", "address": "77 Pine Street",
        "description": "Start service for Ana Ruiz", "ticket": True,
        "details": {"start_date": "December 1"},
    }).json()
    ticket = seeded.get(Ticket, start["ticket_id"])
    assert ticket is not None and ticket.level == "I"
    assert refresh(seeded, key).status == "open"  # a ticket, but the bot keeps talking
    stop = api.post(f"/conversations/{key}/service-requests", json={
        "type": "stop_service", "intent": "stop_service", "description": "stop",
    })
    assert stop.status_code == 403
    assert api.post(f"/conversations/{key}/service-requests", json={
        "type": "meter_swap", "intent": "x", "description": "y"}).status_code == 422


def test_emergency_opens_an_urgent_request_ticket_and_pages(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, UNKNOWN, channel="voice")
    answer = api.post(f"/conversations/{key}/emergency", json={
        "address": "Oak Street and 5th", "description": "water gushing from the street",
    })
    assert answer.status_code == 201
    body = answer.json()
    request = seeded.scalars(select(ServiceRequest).where(
        ServiceRequest.reference == body["reference"])).one()
    assert request.priority == "emergency"
    ticket = seeded.get(Ticket, body["ticket_id"])
    assert ticket is not None and ticket.priority == 0 and ticket.intent == "report_emergency"
    assert body["paged"] is True
    assert seeded.scalars(select(Page).where(Page.ticket_id == ticket.id)).first() is not None
    assert refresh(seeded, key).status == "open"


def test_handoff_marks_the_conversation_and_routes_the_ticket(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = verified(api, seeded, clock, ROBERT, "95616")
    payload = {"intent": "billing_dispute", "reason": "disputes need a CSR II",
               "summary": "Bill is four times the usual.", "language": "en"}
    first = api.post(f"/conversations/{key}/handoff", json=payload)
    assert first.status_code == 201
    ticket = first.json()
    assert ticket["level"] == "II"
    assert ticket["office_open"] is True and ticket["live_transfer"] is False  # SMS
    assert ticket["due_at_local"].endswith("-08:00")
    stored = refresh(seeded, key)
    assert stored.status == "handed_off"
    row = seeded.get(Ticket, ticket["ticket_id"])
    assert row is not None and row.verification_tier == 1 and row.account_id == stored.account_id
    # The same conversation handed off again gets the same ticket.
    assert api.post(f"/conversations/{key}/handoff", json=payload).json()["ticket_id"] == row.id


def test_complaint_about_staff_goes_to_a_senior_csr(
    api: httpx.Client, seeded: Session, clock: FixedClock
) -> None:
    key = conversation(seeded, clock, UNKNOWN, channel="voice")
    ticket = api.post(f"/conversations/{key}/handoff", json={
        "intent": "complaint", "reason": "complaint",
        "summary": "The meter reader was rude to my mother.",
    }).json()
    assert ticket["level"] == "Senior"
    assert ticket["live_transfer"] is True  # a call during office hours


def test_district_facts(api: httpx.Client) -> None:
    facts = api.get("/district").json()
    assert facts["office_address"] == "1250 Harbor Boulevard, Davis, CA 95616"
    assert facts["hours_text"]["en"] == "Monday to Friday, 8 AM to 5 PM"
    assert facts["hours_text"]["es"].startswith("de lunes a viernes")
    assert facts["open_now"] is True
    assert [h["date"] for h in facts["upcoming_holidays"]][:2] == ["2026-11-26", "2026-11-27"]
    assert len(facts["rebates"]) == 4
    assert facts["rebates"][0]["name"]["es"]
