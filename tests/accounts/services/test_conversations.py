from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.services.conversations import get_or_open_conversation


def test_conversation_times_out(seeded: Session, clock: FixedClock) -> None:
    first, _ = get_or_open_conversation(session=seeded, channel="sms", external_id="+15305550101",
                                        now=clock.now(), timeout=timedelta(minutes=30))
    clock.advance(timedelta(minutes=10))
    same, created = get_or_open_conversation(session=seeded, channel="sms",
                                             external_id="+15305550101", now=clock.now(),
                                             timeout=timedelta(minutes=30))
    assert same.id == first.id and not created
    clock.advance(timedelta(minutes=45))
    new, created = get_or_open_conversation(session=seeded, channel="sms",
                                            external_id="+15305550101", now=clock.now(),
                                            timeout=timedelta(minutes=30))
    assert created and new.id != first.id and first.status == "closed"
