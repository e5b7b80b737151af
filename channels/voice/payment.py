"""``<Pay>``'s result: the payment is recorded, the caller hears how it went.

Card data stays inside Twilio. Posting the payment (or a ticket when an
approved charge cannot be posted) is :mod:`accounts.services.payments`; this
module reads Twilio's fields, keeps a redelivery from acting twice, and says
the outcome.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy.orm import Session

from accounts.services.payments import PhonePaymentOutcome, record_phone_payment
from channels.deps import ChannelServices
from channels.relay import DuplicateMessage, remember_answer
from channels.signature import TwilioRequest
from channels.twiml import parse_amount
from channels.voice import inbound, prompts
from channels.voice.copy import text
from channels.voice.state import call_conversation, replay, turn_key

_PAY_CANCELLED = frozenset({"caller-interrupted-with-star", "caller-hung-up"})


def pay_result(*, services: ChannelServices, session: Session, tw: TwilioRequest) -> str:
    """Record the payment or the failure and speak the outcome; commits."""
    conversation = call_conversation(services, session, tw)
    language = conversation.language
    key = turn_key(tw, "pay")
    result = tw.get("Result").lower()
    code = re.sub(r"[^A-Za-z0-9-]", "", tw.get("PaymentConfirmationCode"))[:64]
    query = inbound.query(tw)
    amount = parse_amount(tw.get("ChargeAmount") or query.get("amount", ""))
    now = services.clock.now()
    # What Twilio reports about the card is masked already; keep only type and result.
    details = {
        "result": result,
        "card_type": tw.get("PaymentCardType")[:20],
        "error": tw.get("PaymentError")[:200],
        "connector_error": tw.get("ConnectorError")[:200],
        "amount": str(amount) if amount is not None else None,
    }
    message = inbound.message(
        tw, text_value=f"payment {result or 'unknown'}", kind="payment", key=key, meta=details
    )
    try:
        entry = services.relay.record_inbound(
            session=session, message=message, conversation=conversation
        )
    except DuplicateMessage:
        return replay(session, key, conversation)
    outcome = record_phone_payment(
        session=session,
        calendar=services.calendar,
        conversation=conversation,
        account_number=query.get("account", ""),
        result=result,
        confirmation=code,
        amount=amount,
        details=details,
        now=now,
    )
    spoken = _spoken_outcome(language, outcome, result=result, amount=amount, code=code)
    twiml = prompts.anything_else(services, conversation, before=[spoken])
    remember_answer(entry, twiml)
    session.commit()
    return twiml


def _spoken_outcome(
    language: str | None,
    outcome: PhonePaymentOutcome,
    *,
    result: str,
    amount: Decimal | None,
    code: str,
) -> str:
    """What the caller hears about the payment."""
    if outcome is PhonePaymentOutcome.NOT_COMPLETED:
        return text(language, "pay_cancelled" if result in _PAY_CANCELLED else "pay_failed")
    spelled = _spell(code)
    if outcome is PhonePaymentOutcome.TO_POST:
        spelled = spelled or "-"  # the code may be missing: the sentence still reads
    return text(language, "paid", amount=_say_amount(amount or Decimal("0")), code=spelled)


def _spell(code: str) -> str:
    """A confirmation code read out one character at a time."""
    return ", ".join(ch for ch in code if ch.isalnum())


def _say_amount(amount: Decimal) -> str:
    return f"{amount:.2f}"
