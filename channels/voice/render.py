"""TwiML building blocks of the phone line: webhook URLs, hand-off route, ``<Pay>``, prompts.

Nothing here reads or changes the call's state; :mod:`channels.voice.prompts`
decides what is said and remembers it.
"""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import VoiceResponse

from channels.deps import ChannelServices
from channels.twiml import HandoffRoute, PaySettings, VoiceUrls, new_gather, say, with_query

#: Where a re-asked prompt posts when no absolute URL is at hand (a redelivery in flight).
TURN_PATH = "/twilio/voice/turn"


def voice_base(services: ChannelServices) -> str:
    """The public URL of the voice webhooks (``…/twilio/voice``)."""
    return f"{services.settings.public_base_url.rstrip('/')}/twilio/voice"


def voice_urls(services: ChannelServices, n: int) -> VoiceUrls:
    """Absolute webhook URLs for the turn after turn ``n``."""
    base = voice_base(services)
    return VoiceUrls(
        gather=with_query(f"{base}/turn", n=n),
        pay=with_query(f"{base}/pay", n=n),
        dial_result=with_query(f"{base}/dial", n=n),
        recorded=with_query(f"{base}/recorded", n=n),
        transcription=f"{base}/transcription",
        whisper=f"{base}/whisper",
    )


def handoff_route(services: ChannelServices, language: str | None) -> HandoffRoute:
    """Transfer (office open) or voicemail (closed), from the business calendar.

    After hours the voicemail prompt first says when a person will call back.
    """
    twilio = services.settings.twilio
    office_open = services.calendar.is_open(services.clock.now())
    return HandoffRoute(
        office_open=office_open,
        csr_number=twilio.csr_number or None,
        queue_name=twilio.csr_queue,
        # The caller is on the district's line already: no "call this number" here.
        after_hours="" if office_open else services.relay.follow_up_text(language, emergency=False),
    )


def pay_settings(services: ChannelServices) -> PaySettings:
    """``<Pay>`` with the configured payment connector."""
    return PaySettings(connector=services.settings.twilio.pay_connector)


def prompt(
    texts: Sequence[str],
    *,
    language: str | None,
    action: str,
    num_digits: int | None = None,
) -> str:
    """Say ``texts`` inside a ``<Gather>`` posting to ``action``.

    Should the ``<Gather>`` end without posting, the call is redirected to the
    same URL with ``silence=1`` (its own redelivery key).
    """
    response = VoiceResponse()
    gather = new_gather(action=action, language=language, num_digits=num_digits)
    for line in texts:
        say(gather, line, language)
    response.append(gather)
    response.redirect(with_query(action, silence=1), method="POST")
    return str(response)
