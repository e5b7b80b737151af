from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.services.contacts import link_conversation_to_account, record_contact
from accounts.services.conversations import get_or_open_conversation
from accounts.services.lookup import find_account_by_number


def test_contacts_link_and_redact(seeded: Session, clock: FixedClock) -> None:
    conversation, created = get_or_open_conversation(session=seeded, channel="sms",
                                                     external_id="+15305550101", now=clock.now())
    assert created
    entry = record_contact(session=seeded, channel="sms", direction="inbound", kind="message",
                           body="pay with 4111 1111 1111 1111", at=clock.now(),
                           conversation=conversation)
    assert "4111" not in entry.body and entry.account_id is None
    account = find_account_by_number(session=seeded, number="1000417")
    link_conversation_to_account(session=seeded, conversation=conversation, account=account)
    seeded.refresh(entry)
    assert entry.account_id == account.id
