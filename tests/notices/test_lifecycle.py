"""Staff input for a notice is checked."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from notices.lifecycle import NoticeError, parse_street
from tests.notices.support import new_notice


def test_bad_notice_input_is_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(NoticeError, match="kind"):
        new_notice(session, clock.now(), kind="earthquake")
    with pytest.raises(NoticeError, match="zone"):
        new_notice(session, clock.now(), zones=[])
    with pytest.raises(NoticeError, match="NAME:FROM-TO"):
        parse_street(":400-700")
    with pytest.raises(NoticeError, match="backwards"):
        parse_street("Oak Street:700-400")
    assert parse_street(" Maple Avenue ") == {"street": "Maple Avenue", "from": None, "to": None}
