"""What the Twilio webhooks need from the gateway's service container.

The gateway builds the clients and the relay once (``gateway.services``); the
webhooks see them through :class:`ChannelServices`, so nothing in this
package builds a provider client or imports the gateway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from accounts.deps import CoreServices, services_of
from channels.outbound_sms import SmsSender
from channels.relay import Relay


class PageReplies(Protocol):
    """On-call staff answering an emergency page (escalation's pager, injected)."""

    def reply_by_sms(
        self, *, session: Session, from_number: str, body: str, now: datetime
    ) -> str | None:
        """The reply to an "ACK" from a roster phone; ``None`` when it is not one."""
        ...

    def answer_call(
        self, *, session: Session, page_id: int, callee: str | None, digits: str, now: datetime
    ) -> str:
        """The TwiML for a key pressed on a page call."""
        ...


class ChannelServices(CoreServices, Protocol):
    """What the Twilio webhooks use."""

    @property
    def relay(self) -> Relay: ...

    @property
    def sms_sender(self) -> SmsSender: ...

    @property
    def twilio(self) -> Any: ...

    @property
    def pager(self) -> PageReplies: ...


async def _services(request: Request) -> ChannelServices:
    # ``async``: a plain function would cost a thread-pool hop on every webhook.
    services: ChannelServices = services_of(request)
    return services


ChannelServicesDep = Annotated[ChannelServices, Depends(_services)]
