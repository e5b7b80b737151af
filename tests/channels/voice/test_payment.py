"""``<Pay>``'s result over HTTP: the payment recorded once, the outcome spoken."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from accounts.models import Account, ContactLog, Payment
from tests.channels.conftest import Gateway, said
from tests.channels.voice.calls import english_menu


def test_balance_then_pay_by_keypad_and_pay_callback(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.press("1")
    assert twilio_gateway.rasa.received[-1]["message"] == "/check_balance"
    assert twilio_gateway.rasa.received[-1]["metadata"]["channel"] == "voice"
    assert said(root)[:2] == ["Your balance is $84.20, due Dec 6.", "What would you like to do?"]
    assert said(root)[2] == "For Pay now, press 1."
    assert call.gather().attrib["numDigits"] == "1"

    root = call.press("1")  # the "Pay now" button
    assert twilio_gateway.rasa.received[-1]["message"] == "/make_payment"
    pay = root.find("Pay")
    assert pay is not None
    assert pay.attrib["paymentConnector"] == twilio_gateway.settings.twilio.pay_connector
    assert pay.attrib["chargeAmount"] == "84.20"

    root = call.post(
        pay.attrib["action"],
        Result="success",
        PaymentConfirmationCode="ZX9Q41",
        PaymentCardType="visa",
        PaymentCardNumber="xxxx-xxxx-xxxx-1111",
        ChargeAmount="84.20",
    )
    assert "Z, X, 9, Q, 4, 1" in said(root)[0]
    assert call.gather() is not None
    with twilio_gateway.session() as session:
        payment = session.scalars(select(Payment).where(Payment.confirmation == "ZX9Q41")).one()
        assert payment.amount == Decimal("84.20")
        assert payment.source_channel == "voice" and payment.method == "card"
        account = session.get(Account, payment.account_id)
        assert account is not None and account.number == "1000417"
        logged = session.scalars(select(ContactLog.body)).all()
        assert not any("1111" in body for body in logged)
    # Twilio redelivers the callback: still one payment.
    call.post(
        pay.attrib["action"],
        Result="success",
        PaymentConfirmationCode="ZX9Q41",
        ChargeAmount="84.20",
    )
    with twilio_gateway.session() as session:
        assert (
            len(session.scalars(select(Payment).where(Payment.confirmation == "ZX9Q41")).all()) == 1
        )


def test_failed_payment_is_recorded_not_posted(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    root = call.press("2")
    pay = root.find("Pay")
    assert pay is not None
    root = call.post(
        pay.attrib["action"], Result="payment-connector-error", PaymentError="card declined"
    )
    assert "did not go through" in said(root)[0]
    with twilio_gateway.session() as session:
        assert session.scalars(select(Payment).where(Payment.source_channel == "voice")).all() == []
        failed = session.scalars(
            select(ContactLog).where(ContactLog.kind == "payment_failed")
        ).one()
        assert "payment-connector-error" in failed.body


def test_cancelled_payment_says_nothing_was_charged_and_goes_on(twilio_gateway: Gateway) -> None:
    call = english_menu(twilio_gateway)
    pay = call.press("2").find("Pay")
    assert pay is not None
    root = call.post(pay.attrib["action"], Result="caller-hung-up")
    assert said(root) == [
        "The payment was cancelled. Nothing was charged.",
        "Is there anything else I can help you with?",
    ]
    assert "numDigits" not in call.gather().attrib  # the answer goes to the assistant
    with twilio_gateway.session() as session:
        failed = session.scalars(
            select(ContactLog).where(ContactLog.kind == "payment_failed")
        ).one()
        assert failed.body == "Phone payment not completed: caller-hung-up."
