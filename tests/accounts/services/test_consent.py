from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.services.consent import is_opted_out, record_opt_in, record_opt_out


def test_consent_ledger(seeded: Session, clock: FixedClock) -> None:
    assert not is_opted_out(session=seeded, address="+15305550199")
    assert record_opt_out(session=seeded, address="+15305550199", channel="sms",
                          now=clock.now(), via="sms:STOP")
    assert is_opted_out(session=seeded, address="+15305550199")
    assert not record_opt_out(session=seeded, address="+15305550199", channel="sms",
                              now=clock.now(), via="sms:STOP")
    record_opt_in(session=seeded, address="+15305550199", channel="sms", now=clock.now(),
                  via="sms:START")
    assert not is_opted_out(session=seeded, address="+15305550199")
