"""Render assistant replies as TwiML for Twilio Messaging and Voice.

SMS: each reply's text plus numbered buttons, split into bodies Twilio accepts,
one ``<Message>`` each. Voice: replies become ``<Say>`` verbs in the caller's
language and voice, nested in a ``<Gather input="speech dtmf">`` so the caller
can barge in, unless a custom payload ends the turn differently: ``pay`` →
``<Pay>``, ``handoff`` → ``<Dial>``/``<Enqueue>`` in office hours or a
``<Record>`` voicemail otherwise, ``hangup`` → ``<Hangup>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from fastapi.responses import Response
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from accounts.sms_text import DEFAULT_TARGET, split_message
from channels.base import BotReply, Button, Language
from channels.sms_buttons import render_buttons

#: The media type of every TwiML answer.
TWIML_MEDIA_TYPE = "application/xml"


def xml_response(twiml: str) -> Response:
    """A webhook's answer: the TwiML document with its media type."""
    return Response(content=twiml, media_type=TWIML_MEDIA_TYPE)


@dataclass(frozen=True, slots=True)
class VoiceProfile:
    """Speech recogniser language and text-to-speech voice for one language."""

    language: str
    voice: str
    hints: str
    #: <Pay> supports fewer locales than <Gather>; US Spanish is the one it offers.
    pay_language: str


VOICE_PROFILES: Mapping[str, VoiceProfile] = {
    "en": VoiceProfile(
        language="en-US",
        voice="Polly.Joanna",
        hints=(
            "balance, pay my bill, make a payment, payment plan, outage, no water, "
            "low pressure, water main break, leak, sewer backup, start service, stop service, "
            "autopay, representative, agent, operator, account number, yes, no, Spanish"
        ),
        pay_language="en-US",
    ),
    "es": VoiceProfile(
        language="es-MX",
        voice="Polly.Mia",
        hints=(
            "saldo, pagar mi factura, hacer un pago, plan de pagos, corte de agua, sin agua, "
            "baja presión, fuga, tubería rota, drenaje, iniciar servicio, cancelar servicio, "
            "representante, agente, número de cuenta, sí, no, inglés"
        ),
        pay_language="es-US",
    ),
}


def voice_profile(language: str | None) -> VoiceProfile:
    """The profile for ``"en"``/``"es"``; English when unknown."""
    return VOICE_PROFILES.get(language or "en", VOICE_PROFILES["en"])


# -- SMS ----------------------------------------------------------------------


def sms_bodies(
    replies: Sequence[BotReply], *, language: Language = "en", target: int = DEFAULT_TARGET
) -> list[str]:
    """Turn replies into SMS bodies: numbered buttons appended, long texts split."""
    bodies: list[str] = []
    for reply in replies:
        text = render_buttons(reply.text, reply.buttons, language=language)
        bodies.extend(split_message(text, target=target))
    return bodies


def offered_buttons(replies: Sequence[BotReply]) -> list[Button]:
    """The buttons of the last reply that offered any (what a digit reply refers to)."""
    for reply in reversed(replies):
        if reply.buttons:
            return list(reply.buttons)
    return []


def render_sms(bodies: Sequence[str]) -> str:
    """A ``<Response>`` with one ``<Message>`` per body (empty response when none)."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return str(response)


# -- Voice --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoiceUrls:
    """Absolute URLs of the voice webhooks a rendered turn points to.

    Attributes:
        gather: Where ``<Gather>`` posts the caller's speech or digits.
        pay: ``<Pay>``'s action URL (the payment result).
        dial_result: Where ``<Dial>``/``<Enqueue>`` report that no one answered.
        recorded: ``<Record>``'s action URL (the voicemail is done).
        transcription: ``<Record>``'s transcription callback.
        whisper: What the CSR hears before being connected (``?ticket=`` is added).
    """

    gather: str
    pay: str
    dial_result: str
    recorded: str
    transcription: str
    whisper: str


@dataclass(frozen=True, slots=True)
class HandoffRoute:
    """Where a hand-off goes right now.

    Attributes:
        office_open: Whether to transfer the call now (CSRs answering).
        csr_number: The CSR line to ``<Dial>`` (E.164); ``None`` → ``<Enqueue>``.
        queue_name: The TaskRouter/Twilio queue name used with ``<Enqueue>``.
    """

    office_open: bool
    csr_number: str | None = None
    queue_name: str = "csr"
    #: Whether the office is open (when a transfer is declined for another reason
    #: the voicemail prompt must not say the office is closed).
    office_hours: bool | None = None
    #: After hours: the office is closed and when a person will call back
    #: (``escalation.after_hours.after_hours_message``), said before the tone.
    after_hours: str = ""


@dataclass(frozen=True, slots=True)
class PaySettings:
    """How ``<Pay>`` is configured.

    Attributes:
        connector: The Pay Connector's unique name in the Twilio console.
        currency: ISO currency code Twilio expects (lowercase).
    """

    connector: str
    currency: str = "usd"


_VOICE_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "press": "For {title}, press {n}.",
        "voicemail": (
            "Please leave your name, phone number and message after the tone, then press pound."
        ),
        "voicemail_open": (
            "To add anything for the representative, leave your name, phone number and "
            "message after the tone, then press pound. Someone will call you back."
        ),
        "transfer": "Please hold while I connect you with a customer service representative.",
        "pay_intro": "You can pay {amount} dollars now with a card on your keypad.",
        "pay_bad_amount": "I could not start a payment for that amount.",
        "no_input": "I did not hear anything.",
        "goodbye": "Goodbye.",
    },
    "es": {
        "press": "Para {title}, oprima {n}.",
        "voicemail": (
            "Por favor deje su nombre, número de teléfono y mensaje después del tono y luego "
            "oprima la tecla de número."
        ),
        "voicemail_open": (
            "Para agregar algo para el representante, deje su nombre, número de teléfono y "
            "mensaje después del tono y luego oprima la tecla de número. "
            "Le devolveremos la llamada."
        ),
        "transfer": "Por favor espere mientras le comunico con un representante.",
        "pay_intro": "Puede pagar {amount} dólares ahora con una tarjeta usando su teclado.",
        "pay_bad_amount": "No pude iniciar un pago por esa cantidad.",
        "no_input": "No escuché nada.",
        "goodbye": "Adiós.",
    },
}


def voice_text(language: str | None, key: str, **values: object) -> str:
    """A fixed voice phrase in the caller's language."""
    table = _VOICE_TEXT.get(language or "en", _VOICE_TEXT["en"])
    return table[key].format(**values)


def with_query(url: str, **params: object) -> str:
    """Append query parameters to a URL (values that are ``None`` are left out)."""
    clean = {k: str(v) for k, v in params.items() if v is not None}
    if not clean:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{urlencode(clean)}"


def parse_amount(raw: object) -> Decimal | None:
    """A positive amount with at most two decimals, or ``None``."""
    try:
        amount = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    if amount <= 0 or amount >= Decimal("1000000"):
        return None
    return amount


def new_gather(
    *,
    action: str,
    language: str | None,
    hints: str | None = None,
    num_digits: int | None = None,
    timeout: int = 5,
) -> Gather:
    """A ``<Gather input="speech dtmf">`` set up for the caller's language.

    ``actionOnEmptyResult`` makes Twilio post even on silence, so the gateway
    counts silences itself and decides on re-prompts, a person or voicemail.
    """
    profile = voice_profile(language)
    return Gather(
        input="speech dtmf",
        action=action,
        method="POST",
        language=profile.language,
        hints=hints if hints is not None else profile.hints,
        speech_timeout="auto",
        timeout=timeout,
        num_digits=num_digits,
        finish_on_key="#",
        action_on_empty_result=True,
    )


def say(target: VoiceResponse | Gather, text: str, language: str | None) -> None:
    """``<Say>`` in the caller's language and voice."""
    profile = voice_profile(language)
    target.say(text, voice=profile.voice, language=profile.language)


def menu_lines(buttons: Sequence[Button], language: str | None) -> list[str]:
    """Spoken keypad options for buttons ("For Pay my bill, press 1.")."""
    return [
        voice_text(language, "press", title=button.title, n=n)
        for n, button in enumerate(buttons[:9], start=1)
    ]


def render_voice(
    replies: Sequence[BotReply],
    *,
    language: str | None,
    urls: VoiceUrls,
    pay: PaySettings,
    handoff: HandoffRoute,
    hints: str | None = None,
) -> str:
    """Render one voice turn.

    Args:
        replies: The assistant's replies for this turn.
        language: ``"en"`` or ``"es"``; sets recogniser language and voice.
        urls: Webhook URLs the TwiML points back to.
        pay: ``<Pay>`` configuration.
        handoff: Where a hand-off goes right now.
        hints: Speech hints for the next ``<Gather>`` (defaults per language).

    Returns:
        The TwiML document.
    """
    texts: list[str] = []
    buttons: list[Button] = []
    final: Mapping[str, object] | None = None
    for reply in replies:
        if reply.text:
            texts.append(reply.text)
        if reply.buttons:
            buttons = list(reply.buttons)
        if reply.custom_type in {"pay", "handoff", "hangup"}:
            final = reply.custom
    response = VoiceResponse()
    kind = str(final.get("type")) if final is not None else None

    if kind == "hangup":
        for text in texts:
            say(response, text, language)
        response.hangup()
        return str(response)

    if kind == "handoff" and final is not None:
        for text in texts:
            say(response, text, language)
        ticket = final.get("ticket_id")
        if "live_transfer" in final:
            # The gateway's hand-off API already decided (office hours, CSR level).
            handoff = HandoffRoute(
                office_open=bool(final["live_transfer"]),
                csr_number=handoff.csr_number,
                queue_name=handoff.queue_name,
                office_hours=handoff.office_open,
                after_hours=handoff.after_hours,
            )
        render_handoff(response, language=language, urls=urls, handoff=handoff, ticket_id=ticket)
        return str(response)

    if kind == "pay" and final is not None:
        amount = parse_amount(final.get("amount"))
        for text in texts:
            say(response, text, language)
        if amount is None:
            say(response, voice_text(language, "pay_bad_amount"), language)
        else:
            profile = voice_profile(language)
            if not texts:
                say(response, voice_text(language, "pay_intro", amount=amount), language)
            response.pay(
                input="dtmf",
                action=with_query(urls.pay, amount=amount, account=final.get("account")),
                payment_connector=pay.connector,
                charge_amount=str(amount),
                currency=pay.currency,
                payment_method="credit-card",
                postal_code=True,
                security_code=True,
                max_attempts=3,
                timeout=10,
                language=profile.pay_language,
                description=str(final.get("description") or "Water bill payment")[:100],
            )
            return str(response)

    gather = new_gather(
        action=urls.gather,
        language=language,
        hints=hints,
        num_digits=1 if buttons else None,
    )
    for text in texts:
        say(gather, text, language)
    if buttons:
        for line in menu_lines(buttons, language):
            say(gather, line, language)
    response.append(gather)
    # Only reached if Twilio ignores actionOnEmptyResult: treat as silence.
    response.redirect(with_query(urls.gather, silence=1), method="POST")
    return str(response)


def render_handoff(
    response: VoiceResponse,
    *,
    language: str | None,
    urls: VoiceUrls,
    handoff: HandoffRoute,
    ticket_id: object = None,
) -> None:
    """Append a transfer (office open) or a voicemail recording (closed)."""
    if handoff.office_open:
        say(response, voice_text(language, "transfer"), language)
        if handoff.csr_number:
            dial = Dial(
                action=with_query(urls.dial_result, ticket=ticket_id),
                method="POST",
                timeout=30,
                answer_on_bridge=True,
            )
            dial.number(handoff.csr_number, url=with_query(urls.whisper, ticket=ticket_id))
            response.append(dial)
        else:
            response.enqueue(
                handoff.queue_name,
                action=with_query(urls.dial_result, ticket=ticket_id),
                method="POST",
            )
        return
    closed = not handoff.office_hours if handoff.office_hours is not None else True
    render_voicemail(
        response,
        language=language,
        urls=urls,
        ticket_id=ticket_id,
        after_hours=handoff.after_hours if closed else None,
    )


def render_voicemail(
    response: VoiceResponse,
    *,
    language: str | None,
    urls: VoiceUrls,
    ticket_id: object = None,
    after_hours: str | None = None,
) -> None:
    """Append the voicemail prompt and a ``<Record>`` with a transcription callback.

    Args:
        response: The TwiML being built.
        language: The caller's language.
        urls: Webhook URLs.
        ticket_id: The ticket the voicemail joins, if any.
        after_hours: ``None`` in office hours (a representative is adding to the
            case); after hours, what to say first: closed, and when a person
            will call back.
    """
    if after_hours is None:
        say(response, voice_text(language, "voicemail_open"), language)
    else:
        if after_hours:
            say(response, after_hours, language)
        say(response, voice_text(language, "voicemail"), language)
    response.record(
        action=with_query(urls.recorded, ticket=ticket_id),
        method="POST",
        max_length=120,
        timeout=5,
        finish_on_key="#",
        play_beep=True,
        transcribe=True,
        transcribe_callback=with_query(urls.transcription, ticket=ticket_id),
    )
    # If the caller records nothing, Twilio continues here.
    say(response, voice_text(language, "goodbye"), language)
    response.hangup()


def render_say_and_hangup(texts: Sequence[str], *, language: str | None) -> str:
    """Speak and end the call."""
    response = VoiceResponse()
    for text in texts:
        say(response, text, language)
    response.hangup()
    return str(response)
