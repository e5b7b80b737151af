"""Phone payments after ``<Pay>``: posted once, handed to a CSR, or logged as not completed."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import FixedClock
from accounts.models import Account, ContactLog, Conversation, Payment, Ticket
from accounts.services.contacts import link_conversation_to_account
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_account_by_number
from accounts.services.payments import PhonePaymentOutcome, record_phone_payment

CALL_SID = "CA" + "3" * 32


def _call(session: Session, clock: FixedClock) -> Conversation:
    conversation, _ = get_or_open_conversation(
        session=session, channel="voice", external_id=CALL_SID, now=clock.now()
    )
    return conversation


def _dana(session: Session) -> Account:
    account = find_account_by_number(session=session, number="1000417")
    assert account is not None
    return account


def _log(session: Session, conversation: Conversation) -> list[ContactLog]:
    return list(
        session.scalars(
            select(ContactLog)
            .where(ContactLog.conversation_id == conversation.id)
            .order_by(ContactLog.id)
        )
    )


def test_approved_payment_is_posted_once_per_confirmation(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    for _ in range(2):  # Twilio may redeliver the callback
        outcome = record_phone_payment(
            session=seeded,
            calendar=calendar,
            conversation=conversation,
            account_number="1000417",
            result="success",
            confirmation="ZX9Q41",
            amount=Decimal("84.20"),
            details={"result": "success", "card_type": "visa"},
            now=clock.now(),
        )
        assert outcome is PhonePaymentOutcome.POSTED
    payment = seeded.scalars(select(Payment).where(Payment.confirmation == "ZX9Q41")).one()
    assert payment.account_id == _dana(seeded).id
    assert payment.amount == Decimal("84.20")
    assert payment.method == "card" and payment.source_channel == "voice"
    assert payment.posted_at == clock.now()
    assert conversation.outcome == "paid"
    entry = _log(seeded, conversation)[0]
    assert (entry.kind, entry.direction, entry.actor) == ("payment", "internal", "system")
    assert entry.body == "Phone payment of $84.20 approved, confirmation ZX9Q41."
    assert entry.account_id == payment.account_id
    assert entry.meta == {"confirmation": "ZX9Q41", "amount": "84.20"}


def test_payment_without_an_account_number_goes_on_the_calls_account(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    link_conversation_to_account(session=seeded, conversation=conversation, account=_dana(seeded))
    outcome = record_phone_payment(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        account_number="",
        result="success",
        confirmation="AB12",
        amount=Decimal("10.00"),
        details={},
        now=clock.now(),
    )
    assert outcome is PhonePaymentOutcome.POSTED
    payment = seeded.scalars(select(Payment).where(Payment.confirmation == "AB12")).one()
    assert payment.account_id == _dana(seeded).id


def test_approved_payment_without_an_account_becomes_a_ticket_to_post(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    outcome = record_phone_payment(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        account_number="9999999",
        result="success",
        confirmation="CD34",
        amount=Decimal("25.00"),
        details={},
        now=clock.now(),
    )
    assert outcome is PhonePaymentOutcome.TO_POST
    assert seeded.scalars(select(Payment).where(Payment.confirmation == "CD34")).all() == []
    ticket = seeded.scalars(select(Ticket)).one()
    assert ticket.intent == "make_payment" and ticket.channel == "voice"
    assert "confirmation CD34, amount 25.00" in ticket.summary
    assert "no account" in ticket.summary
    assert conversation.status != "handed_off"  # the caller goes on with the assistant
    entry = _log(seeded, conversation)[-1]
    assert entry.kind == "payment" and entry.ticket_id == ticket.id
    assert entry.body == f"Phone payment approved but not posted; ticket #{ticket.id}."


def test_approved_payment_missing_its_details_becomes_a_ticket_to_post(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    outcome = record_phone_payment(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        account_number="1000417",
        result="success",
        confirmation="",
        amount=None,
        details={},
        now=clock.now(),
    )
    assert outcome is PhonePaymentOutcome.TO_POST
    ticket = seeded.scalars(select(Ticket)).one()
    assert "confirmation missing, amount unknown" in ticket.summary
    assert "missing details" in ticket.summary
    assert ticket.account_id == _dana(seeded).id


def test_failed_payment_is_logged_with_its_details_and_not_posted(
    seeded: Session, clock: FixedClock, calendar: BusinessCalendar
) -> None:
    conversation = _call(seeded, clock)
    details = {"result": "payment-connector-error", "error": "card declined", "amount": None}
    outcome = record_phone_payment(
        session=seeded,
        calendar=calendar,
        conversation=conversation,
        account_number="1000417",
        result="payment-connector-error",
        confirmation="",
        amount=Decimal("84.20"),
        details=details,
        now=clock.now(),
    )
    assert outcome is PhonePaymentOutcome.NOT_COMPLETED
    assert seeded.scalars(select(Payment).where(Payment.source_channel == "voice")).all() == []
    assert seeded.scalars(select(Ticket)).all() == []
    entry = _log(seeded, conversation)[-1]
    assert entry.kind == "payment_failed"
    assert entry.body == "Phone payment not completed: payment-connector-error."
    assert entry.meta == details
    assert entry.account_id == _dana(seeded).id
    assert conversation.outcome != "paid"
