"""The channel services of a running gateway, built once per app context.

The app context (``accounts.context.AppContext``) owns the shared HTTP client,
settings, clock and district; the channel services are built from it on first
use and kept in ``context.extras`` so every request shares them. Tests put
their own objects into ``extras`` (a Rasa client for a slow server, a twilio
client for the recording server) before the first request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from accounts.context import AppContext
from channels.outbound_sms import SmsSender
from channels.rasa_client import RasaClient
from channels.relay import Relay
from channels.twilio_rest import make_twilio_client

EXTRAS_KEY = "channels"


@dataclass
class ChannelServices:
    """What the Twilio webhooks need."""

    context: AppContext
    relay: Relay
    sms_sender: SmsSender
    twilio_client: Any


def channel_services(context: AppContext) -> ChannelServices:
    """The context's channel services, built on first use."""
    existing = context.extras.get(EXTRAS_KEY)
    if isinstance(existing, ChannelServices):
        return existing
    settings = context.settings
    rasa = context.extras.get("rasa_client")
    if not isinstance(rasa, RasaClient):
        rasa = RasaClient(
            http=context.http,
            base_url=settings.rasa_url,
            token=settings.rasa_token.get_secret_value(),
        )
    twilio_client = context.extras.get("twilio_client")
    if twilio_client is None:
        twilio_client = make_twilio_client(settings)
    sender = context.extras.get("sms_sender")
    if not isinstance(sender, SmsSender):
        sender = SmsSender(client=twilio_client, settings=settings, clock=context.clock)
    services = ChannelServices(
        context=context,
        relay=Relay(
            rasa=rasa,
            settings=settings,
            clock=context.clock,
            district=context.district,
            calendar=context.calendar,
        ),
        sms_sender=sender,
        twilio_client=twilio_client,
    )
    context.extras[EXTRAS_KEY] = services
    return services


async def _services(request: Request) -> ChannelServices:
    # ``async``: a plain function would cost a thread-pool hop on every webhook.
    context: AppContext = request.app.state.context
    return channel_services(context)


ChannelServicesDep = Annotated[ChannelServices, Depends(_services)]
