"""What the CSR app and its JSON API need from the gateway's service container."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from accounts.deps import CoreServices, services_of
from escalation.paging import Pager
from escalation.replies import SmsSending
from notices.dispatch import EmailTransport, SmsDelivery


class CsrServices(CoreServices, Protocol):
    """Core services plus the outbound SMS sender a CSR's reply goes through."""

    @property
    def sms_sender(self) -> SmsSending: ...


class OnCallServices(CoreServices, Protocol):
    """What the after-hours commands use: the pager, and the senders notices go out by."""

    @property
    def pager(self) -> Pager: ...

    @property
    def sms_sender(self) -> SmsDelivery: ...

    @property
    def email_sender(self) -> EmailTransport: ...


async def _services(request: Request) -> CsrServices:
    services: CsrServices = services_of(request)
    return services


def csr_services(request: Request) -> CsrServices:
    """The container, for code that has the request but no dependency (error pages)."""
    services: CsrServices = services_of(request)
    return services


CsrServicesDep = Annotated[CsrServices, Depends(_services)]
