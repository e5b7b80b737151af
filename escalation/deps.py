"""What the CSR app and its JSON API need from the gateway's service container."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

from accounts.deps import CoreServices, services_of
from escalation.replies import SmsSending


class CsrServices(CoreServices, Protocol):
    """Core services plus the outbound SMS sender a CSR's reply goes through."""

    @property
    def sms_sender(self) -> SmsSending: ...


async def _services(request: Request) -> CsrServices:
    services: CsrServices = services_of(request)
    return services


def csr_services(request: Request) -> CsrServices:
    """The container, for code that has the request but no dependency (error pages)."""
    services: CsrServices = services_of(request)
    return services


CsrServicesDep = Annotated[CsrServices, Depends(_services)]
