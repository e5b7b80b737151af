"""Conversations and trackers for the action tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import FixedClock
from accounts.models import Account, Conversation
from accounts.services.conversations import get_or_open_conversation
from tests.utils.action_server import tracker_state, user_event

DANA, MARIA, JAMES, LINH, ROBERT = (
    "+15305550101", "+15305550102", "+15305550103", "+15305550104", "+15305550105",
)
UNKNOWN = "+15305550199"


def open_conversation(session: Session, clock: FixedClock, sender: str, channel: str = "sms",
                      *, verified_account: str | None = None) -> str:
    """A gateway conversation for ``sender``; optionally already at tier 1."""
    conversation, _ = get_or_open_conversation(
        session=session, channel=channel, external_id=sender, now=clock.now(),
        customer_address=sender,
    )
    if verified_account:
        account = session.scalars(select(Account).where(Account.number == verified_account)).one()
        conversation.account_id = account.id
        conversation.verification_tier = 1
    session.commit()
    return conversation.key


def stored(session: Session, key: str) -> Conversation:
    session.expire_all()
    return session.scalars(select(Conversation).where(Conversation.key == key)).one()


def answering(key: str, text: str, *, requested: str, pending: str, intent: str = "nlu_fallback",
              slots: dict[str, Any] | None = None,
              entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The tracker validate_request_form gets when the customer answers ``requested``."""
    events = [
        user_event(text, intent, entities),
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": "request_form"},
    ]
    return tracker_state(
        key,
        slots={"pending_intent": pending, "requested_slot": requested, **(slots or {})},
        events=events,
        active_loop="request_form",
    )


def activating(key: str, text: str, intent: str, *, slots: dict[str, Any] | None = None,
               entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The tracker validate_request_form gets when ``intent`` activates the form."""
    events = [user_event(text, intent, entities)]
    events += [{"event": "slot", "name": name, "value": value}
               for name, value in (slots or {}).items()]
    events += [{"event": "slot", "name": "requested_slot", "value": None},
               {"event": "action", "name": "request_form"}]
    return tracker_state(key, slots=slots, events=events)


def completing(key: str, pending: str, *, slots: dict[str, Any] | None = None,
               text: str = "", intent: str | None = None) -> dict[str, Any]:
    """The tracker action_complete_request gets after the form."""
    events = [user_event(text or pending, intent or pending)]
    return tracker_state(key, slots={"pending_intent": pending, **(slots or {})}, events=events)
