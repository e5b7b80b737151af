"""``POST /twilio/voice`` and ``/twilio/voice/*``: the phone line (IVR).

A call is one conversation (keyed by CallSid). The flow:

* ``/twilio/voice`` — greeting with the district's name and "para español
  oprima 2"; caller-ID lookup files the call on the account.
* ``/twilio/voice/language`` — 2 switches to Spanish (recogniser ``es-MX`` and
  a Spanish voice from then on); anything else goes on in English.
* ``/twilio/voice/turn`` — every later ``<Gather>``: keypad menu (1 balance,
  2 pay, 3 outages and water problems, 4 start/stop service, 0 a person),
  keypad choices for offered buttons, digits typed when a number is asked
  (account numbers, ZIPs), and speech for the assistant. Low confidence gets
  one re-prompt, then the keypad; silence gets two re-prompts, then a person
  (office open) or voicemail (closed, saying when a person will call back).
  Saying only "español" / "English" switches the call's language; once Rasa
  has a session its ``language`` slot is set too, so the bot's answers follow.
* ``/twilio/voice/pay`` — ``<Pay>``'s result: the payment (or the failure)
  is recorded and the caller hears the confirmation number. Card data stays
  inside Twilio.
* ``/twilio/voice/dial``, ``/whisper``, ``/recorded``, ``/transcription`` —
  hand-off: transfer with a whisper of the case summary, or voicemail that
  becomes a ticket with a callback request and its transcription.

Every turn URL carries a turn number ``n``; a redelivered request (same call,
same path, same ``n``) gets the TwiML answered the first time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from anyio import to_thread
from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from accounts.db import SessionDep
from accounts.models import Conversation, Ticket
from accounts.phone import normalize_phone
from accounts.redact import redact_cards
from accounts.services.contacts import record_contact
from accounts.services.payments import PhonePaymentOutcome, record_phone_payment
from accounts.services.tickets import add_voicemail_transcription, take_voicemail
from channels.base import Button, InboundMessage
from channels.deps import ChannelServices, ChannelServicesDep
from channels.rasa_client import VOICE_TIMEOUT_SECONDS
from channels.relay import (
    DuplicateMessage,
    PendingTurn,
    TurnResult,
    answered_before,
    remember_answer,
)
from channels.signature import TwilioRequest, TwilioRequestDep
from channels.twiml import (
    HandoffRoute,
    PaySettings,
    VoiceUrls,
    new_gather,
    parse_amount,
    render_handoff,
    render_voice,
    render_voicemail,
    say,
    with_query,
    xml_response,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"])

LOW_CONFIDENCE = 0.3
MAX_SILENCES = 2  # re-prompts before a person or voicemail
MAX_LOW_CONFIDENCE = 1  # re-prompts before offering the keypad
MAX_SPEECH_CHARS = 500
MAX_DIGITS = 20

#: Keypad menu → what the assistant is asked (Rasa intent triggers).
MENU: Mapping[str, str] = {
    "1": "/check_balance",
    "2": "/make_payment",
    "3": "/outage",
    "0": "/human_agent",
}
SERVICE_MENU: Mapping[str, str] = {"1": "/start_service", "2": "/stop_service"}

_TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "welcome": "Thank you for calling {name}.",
        "menu": (
            "Tell me in a few words how I can help, or use your keypad. For your balance, "
            "press 1. To make a payment, press 2. For outages and water problems, press 3. "
            "To start or stop service, press 4. To speak with a representative, press 0."
        ),
        "service_menu": "To start new service, press 1. To stop service, press 2.",
        "not_option": "Sorry, that is not one of the options.",
        "no_input": "Sorry, I did not hear anything.",
        "low_confidence": "Sorry, I did not catch that. Could you say it again?",
        "use_keypad": "Sorry, I am having trouble understanding. You can also use your keypad.",
        "anything_else": "Is there anything else I can help you with?",
        "unavailable": "Sorry, our automated system is not available right now.",
        "paid": (
            "Thank you. Your payment of {amount} dollars was approved. "
            "Your confirmation number is {code}. Again, that is {code}."
        ),
        "pay_failed": (
            "Your payment did not go through, and your card was not charged. "
            "To try again, say pay my bill. To speak with a representative, press 0."
        ),
        "pay_cancelled": "The payment was cancelled. Nothing was charged.",
        "voicemail_thanks": "Thank you. We received your message and will call you back. Goodbye.",
        "goodbye": "Thank you for calling. Goodbye.",
        "whisper": "Call from the automated line. Ticket {ticket}. {summary}",
        "whisper_plain": "Call from the automated line.",
    },
    "es": {
        "welcome": "Gracias por llamar a {name}.",
        "menu": (
            "Dígame en pocas palabras cómo le puedo ayudar, o use su teclado. Para su saldo, "
            "oprima 1. Para hacer un pago, oprima 2. Para cortes de agua y problemas con el "
            "agua, oprima 3. Para iniciar o cancelar el servicio, oprima 4. Para hablar con un "
            "representante, oprima 0."
        ),
        "service_menu": (
            "Para iniciar un servicio nuevo, oprima 1. Para cancelar el servicio, oprima 2."
        ),
        "not_option": "Lo siento, esa no es una de las opciones.",
        "no_input": "Lo siento, no escuché nada.",
        "low_confidence": "Lo siento, no le entendí. ¿Puede repetirlo?",
        "use_keypad": "Lo siento, me cuesta entenderle. También puede usar su teclado.",
        "anything_else": "¿Hay algo más en lo que le pueda ayudar?",
        "unavailable": "Lo sentimos, nuestro sistema automático no está disponible ahora.",
        "paid": (
            "Gracias. Su pago de {amount} dólares fue aprobado. "
            "Su número de confirmación es {code}. Repito, {code}."
        ),
        "pay_failed": (
            "Su pago no se procesó y no se hizo ningún cargo a su tarjeta. Para intentarlo de "
            "nuevo, diga pagar mi factura. Para hablar con un representante, oprima 0."
        ),
        "pay_cancelled": "El pago fue cancelado. No se hizo ningún cargo.",
        "voicemail_thanks": ("Gracias. Recibimos su mensaje y le devolveremos la llamada. Adiós."),
        "goodbye": "Gracias por llamar. Adiós.",
        "whisper": "Llamada de la línea automática. Caso {ticket}. {summary}",
        "whisper_plain": "Llamada de la línea automática.",
    },
}
_SPANISH_REQUEST = re.compile(r"\b(espa[nñ]ol|spanish)\b", re.IGNORECASE)
#: A whole utterance that only asks for a language, mid-call.
_LANGUAGE_REQUEST: Mapping[str, re.Pattern[str]] = {
    "es": re.compile(r"(en |in )?(espa[nñ]ol|spanish)( por favor| please)?"),
    "en": re.compile(r"(en |in )?(english|ingl[eé]s)( please| por favor)?"),
}


def text(language: str | None, key: str, **values: object) -> str:
    """A fixed phrase of the phone line in the caller's language."""
    table = _TEXT.get((language or "en")[:2], _TEXT["en"])
    return table[key].format(**values)


def _base(services: ChannelServices) -> str:
    return f"{services.settings.public_base_url.rstrip('/')}/twilio/voice"


def voice_urls(services: ChannelServices, n: int) -> VoiceUrls:
    """Absolute webhook URLs for the turn after turn ``n``."""
    base = _base(services)
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


# -- conversation state ------------------------------------------------------


def _state(conversation: Conversation) -> dict[str, Any]:
    return dict((conversation.meta or {}).get("voice") or {})


def _save_state(conversation: Conversation, state: Mapping[str, Any]) -> None:
    meta = dict(conversation.meta or {})
    meta["voice"] = dict(state)
    conversation.meta = meta


def _next_n(conversation: Conversation) -> int:
    state = _state(conversation)
    n = int(state.get("n", 0)) + 1
    state["n"] = n
    _save_state(conversation, state)
    return n


def _query(tw: TwilioRequest) -> dict[str, str]:
    """The query parameters of the URL Twilio called (turn number, ticket, amount)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(tw.url).query).items() if v}


def _turn_key(tw: TwilioRequest, step: str) -> str:
    query = _query(tw)
    n = re.sub(r"\D", "", query.get("n", "0"))[:9] or "0"
    silence = ":s" if query.get("silence") else ""
    return f"voice:{tw.get('CallSid')}:{step}:{n}{silence}"


def _replay(session: Session, key: str, conversation: Conversation | None) -> Response:
    """The TwiML answered to the first delivery of this request (rolls back first)."""
    twiml = answered_before(session, key)
    if twiml is None:
        # The first delivery is still being handled: ask again rather than act twice.
        language = conversation.language if conversation else "en"
        twiml = _prompt_twiml([], language=language, services=None, n=0)
    return xml_response(twiml)


def _answer(
    services: ChannelServices,
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    twiml: str,
) -> Response:
    """Record the caller's input and answer ``twiml`` (kept for a redelivery); commits."""
    try:
        entry = services.relay.record_inbound(
            session=session, message=message, conversation=conversation
        )
    except DuplicateMessage:
        return _replay(session, message.external_id or "", conversation)
    remember_answer(entry, twiml)
    session.commit()
    return xml_response(twiml)


def _caller(tw: TwilioRequest) -> str:
    raw = tw.get("From") or tw.get("Caller")
    return normalize_phone(raw) or "anonymous"


def _message(
    tw: TwilioRequest,
    *,
    text_value: str,
    kind: str,
    key: str,
    language: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> InboundMessage:
    return InboundMessage(
        channel="voice",
        sender=_caller(tw),
        text=text_value,
        external_id=key,
        language="es" if language == "es" else ("en" if language == "en" else None),
        kind=kind,
        meta=dict(meta or {}),
    )


# -- rendering ---------------------------------------------------------------


def _prompt_twiml(
    texts: Sequence[str],
    *,
    language: str | None,
    services: ChannelServices | None,
    n: int,
    num_digits: int | None = None,
    action: str | None = None,
) -> str:
    """Say ``texts`` inside a ``<Gather>`` posting to the next turn."""
    response = VoiceResponse()
    gather_action = action or (
        voice_urls(services, n).gather if services is not None else "/twilio/voice/turn"
    )
    gather = new_gather(action=gather_action, language=language, num_digits=num_digits)
    for line in texts:
        say(gather, line, language)
    response.append(gather)
    response.redirect(with_query(gather_action, silence=1), method="POST")
    return str(response)


def _menu(
    services: ChannelServices, conversation: Conversation, *, before: Sequence[str] = ()
) -> str:
    language = conversation.language
    state = _state(conversation)
    state.update({"mode": "menu", "buttons": [], "prompt": [text(language, "menu")]})
    _save_state(conversation, state)
    n = _next_n(conversation)
    return _prompt_twiml(
        [*before, text(language, "menu")],
        language=language,
        services=services,
        n=n,
        num_digits=1,
    )


def _reprompt(
    services: ChannelServices, conversation: Conversation, *, before: Sequence[str]
) -> str:
    """Say ``before`` then repeat the last prompt with the same input mode."""
    state = _state(conversation)
    prompt = [str(p) for p in state.get("prompt") or []]
    mode = state.get("mode", "menu")
    single = mode in ("menu", "service") or bool(state.get("buttons"))
    n = _next_n(conversation)
    return _prompt_twiml(
        [*before, *prompt],
        language=conversation.language,
        services=services,
        n=n,
        num_digits=1 if single else None,
    )


def _handoff_twiml(
    services: ChannelServices,
    conversation: Conversation,
    *,
    before: Sequence[str],
    ticket_id: int | None,
) -> str:
    language = conversation.language
    response = VoiceResponse()
    for line in before:
        say(response, line, language)
    n = _next_n(conversation)
    render_handoff(
        response,
        language=language,
        urls=voice_urls(services, n),
        handoff=handoff_route(services, language),
        ticket_id=ticket_id,
    )
    state = _state(conversation)
    state["mode"] = "handoff"
    _save_state(conversation, state)
    return str(response)


def _render_turn(services: ChannelServices, result: TurnResult) -> str:
    conversation = result.conversation
    language = conversation.language
    state = _state(conversation)
    if result.degraded:
        return _handoff_twiml(
            services,
            conversation,
            before=[text(language, "unavailable")],
            ticket_id=result.ticket_id,
        )
    replies = list(result.replies)
    if not replies:
        state.update({"mode": "rasa", "buttons": [], "prompt": [text(language, "anything_else")]})
        _save_state(conversation, state)
        n = _next_n(conversation)
        return _prompt_twiml(
            [text(language, "anything_else")], language=language, services=services, n=n
        )
    buttons: list[Button] = []
    for reply in replies:
        if reply.buttons:
            buttons = list(reply.buttons)
    kinds = {r.custom_type for r in replies}
    state.update(
        {
            "mode": "handoff" if "handoff" in kinds else ("pay" if "pay" in kinds else "rasa"),
            "buttons": [[b.title, b.payload] for b in buttons],
            "prompt": [r.text for r in replies if r.text][-2:],
            "silence": 0,
            "low_confidence": 0,
        }
    )
    _save_state(conversation, state)
    n = _next_n(conversation)
    if "hangup" in kinds:
        conversation.outcome = conversation.outcome or "completed"
    return render_voice(
        replies,
        language=language,
        urls=voice_urls(services, n),
        pay=pay_settings(services),
        handoff=handoff_route(services, language),
    )


@dataclass(frozen=True)
class AskRasa:
    """A turn that needs the assistant: what the caller said and what Rasa gets."""

    spoken: str
    kind: str
    rasa_text: str | None
    meta: Mapping[str, Any]


@dataclass
class _ToRasa:
    """A voice turn whose first transaction is committed, waiting on the assistant."""

    pending: PendingTurn
    ask: AskRasa


Step = Callable[[ChannelServices, Session, TwilioRequest, Conversation, str], "Response | AskRasa"]


def _before_rasa(
    services: ChannelServices, session: Session, tw: TwilioRequest, key: str, step: Step
) -> tuple[Response | _ToRasa, Conversation, str | None]:
    """The first transaction of a ``<Gather>`` result: the step, and the inbound record.

    Returns the outcome, the call's conversation, and the caller's new
    language when this request changed it (Rasa's ``language`` slot follows).

    Raises:
        DuplicateMessage: The request was already handled.
    """
    conversation = _conversation_for(services, session, tw)
    before = conversation.language
    outcome = step(services, session, tw, conversation, key)
    changed = conversation.language if conversation.language != before else None
    if isinstance(outcome, Response):
        return outcome, conversation, changed
    message = _message(tw, text_value=outcome.spoken, kind=outcome.kind, key=key, meta=outcome.meta)
    pending = services.relay.begin_turn(
        session=session,
        message=message,
        conversation_key=conversation.external_id,
        conversation=conversation,
    )
    return _ToRasa(pending=pending, ask=outcome), conversation, changed


async def _gathered(services: ChannelServices, tw: TwilioRequest, step: Step, key: str) -> Response:
    """Handle a ``<Gather>`` result: database work in worker threads, Rasa on the loop."""
    relay = services.relay
    with services.session_factory() as session:
        try:
            outcome, conversation, language = await to_thread.run_sync(
                _before_rasa, services, session, tw, key, step
            )
            if language is not None:
                # The caller switched language: the bot's own answers follow.
                await relay.set_language(conversation, language)
            if isinstance(outcome, Response):
                return outcome

            def render(result: TurnResult) -> str:
                twiml = _render_turn(services, result)
                remember_answer(result.inbound, twiml)
                return twiml

            twiml = await relay.complete_turn(
                session=session,
                pending=outcome.pending,
                timeout=VOICE_TIMEOUT_SECONDS,
                rasa_text=outcome.ask.rasa_text,
                extra_metadata={"input": outcome.ask.kind},
                then=render,
            )
        except DuplicateMessage:
            return await to_thread.run_sync(_replay, session, key, None)
    return xml_response(twiml)


# -- webhooks ----------------------------------------------------------------


@router.post("/twilio/voice", response_class=Response)
def incoming_call(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """A new call: greeting, language choice, caller-ID lookup."""
    call_sid = tw.get("CallSid")
    if not call_sid:
        logger.warning("voice webhook without CallSid")
        response = VoiceResponse()
        response.hangup()
        return xml_response(str(response))
    key = f"voice:{call_sid}:start"
    relay = services.relay
    message = _message(
        tw, text_value="(call started)", kind="call", key=key, meta={"to": tw.get("To")}
    )
    conversation, _ = relay.open_conversation(
        session=session, message=message, conversation_key=call_sid
    )
    district = services.district
    state = _state(conversation)
    state.update({"mode": "language", "silence": 0, "low_confidence": 0, "buttons": []})
    _save_state(conversation, state)
    n = _next_n(conversation)
    response = VoiceResponse()
    gather = new_gather(
        action=with_query(f"{_base(services)}/language", n=n),
        language="en",
        num_digits=1,
        timeout=3,
    )
    say(gather, text("en", "welcome", name=district.name), "en")
    say(gather, "Para español, oprima 2.", "es")
    response.append(gather)
    response.redirect(with_query(f"{_base(services)}/language", n=n, silence=1), method="POST")
    return _answer(services, session, conversation, message, str(response))


def _conversation_for(
    services: ChannelServices, session: Session, tw: TwilioRequest
) -> Conversation:
    message = _message(tw, text_value="", kind="call", key="")
    conversation, _ = services.relay.open_conversation(
        session=session, message=message, conversation_key=tw.get("CallSid") or "unknown"
    )
    return conversation


def _digits(tw: TwilioRequest) -> str:
    """The keys the caller pressed (digits, * and #), capped."""
    return re.sub(r"[^0-9*#]", "", tw.get("Digits"))[:MAX_DIGITS]


def _speech(tw: TwilioRequest) -> str:
    """What the caller said, as Twilio transcribed it, capped."""
    return tw.get("SpeechResult")[:MAX_SPEECH_CHARS]


@router.post("/twilio/voice/language", response_class=Response)
async def choose_language(tw: TwilioRequestDep, services: ChannelServicesDep) -> Response:
    """The greeting's answer: 2 (or "español") → Spanish; else English."""
    return await _gathered(services, tw, _language_choice, _turn_key(tw, "language"))


def _language_choice(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
) -> Response | AskRasa:
    digits = _digits(tw)
    speech = _speech(tw)
    if digits == "2" or _SPANISH_REQUEST.search(speech):
        return _switch_language(services, session, tw, conversation, key, "es")
    conversation.language = "en"
    if digits:
        return _handle_digits(services, session, tw, conversation, digits, key)
    if speech:
        return _handle_speech(services, session, tw, conversation, speech, key)
    message = _message(tw, text_value="", kind="no_input", key=key, language="en")
    return _answer(services, session, conversation, message, _menu(services, conversation))


def _language_request(speech: str) -> str | None:
    """``"es"``/``"en"`` when the caller only asked for a language ("español", "English please")."""
    words = " ".join(re.sub(r"[^\w\s]", " ", speech.lower()).split())
    for language, pattern in _LANGUAGE_REQUEST.items():
        if pattern.fullmatch(words):
            return language
    return None


def _switch_language(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
    language: str,
) -> Response:
    """The caller chose a language: record it and offer the menu in that language."""
    digits = _digits(tw)
    conversation.language = language
    message = _message(
        tw,
        text_value=digits or _speech(tw),
        kind="dtmf" if digits else "speech",
        key=key,
        language=language,
        meta={"choice": "spanish" if language == "es" else "english"},
    )
    return _answer(services, session, conversation, message, _menu(services, conversation))


@router.post("/twilio/voice/turn", response_class=Response)
async def gather_turn(tw: TwilioRequestDep, services: ChannelServicesDep) -> Response:
    """One ``<Gather>`` result: keypad, speech, or silence."""
    return await _gathered(services, tw, _turn_step, _turn_key(tw, "turn"))


def _turn_step(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
) -> Response | AskRasa:
    digits = _digits(tw)
    speech = _speech(tw)
    if digits:
        return _handle_digits(services, session, tw, conversation, digits, key)
    if speech:
        wanted = _language_request(speech)
        if wanted is not None and wanted != conversation.language:
            return _switch_language(services, session, tw, conversation, key, wanted)
        return _handle_speech(services, session, tw, conversation, speech, key)
    return _handle_silence(services, session, tw, conversation, key)


def _handle_silence(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    key: str,
) -> Response:
    language = conversation.language
    state = _state(conversation)
    silences = int(state.get("silence", 0)) + 1
    state["silence"] = silences
    _save_state(conversation, state)
    if silences > MAX_SILENCES:
        twiml = _handoff_twiml(
            services, conversation, before=[text(language, "no_input")], ticket_id=None
        )
    else:
        twiml = _reprompt(services, conversation, before=[text(language, "no_input")])
    message = _message(tw, text_value="", kind="no_input", key=key)
    return _answer(services, session, conversation, message, twiml)


def _handle_speech(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    speech: str,
    key: str,
) -> Response | AskRasa:
    language = conversation.language
    try:
        confidence = float(tw.get("Confidence") or "1")
    except ValueError:
        confidence = 1.0
    state = _state(conversation)
    state["silence"] = 0
    if confidence < LOW_CONFIDENCE:
        low = int(state.get("low_confidence", 0)) + 1
        state["low_confidence"] = low
        _save_state(conversation, state)
        if low > MAX_LOW_CONFIDENCE:
            state["low_confidence"] = 0
            _save_state(conversation, state)
            twiml = _menu(services, conversation, before=[text(language, "use_keypad")])
        else:
            twiml = _reprompt(services, conversation, before=[text(language, "low_confidence")])
        message = _message(
            tw,
            text_value=speech,
            kind="speech",
            key=key,
            meta={"confidence": confidence, "low_confidence": True},
        )
        return _answer(services, session, conversation, message, twiml)
    state["low_confidence"] = 0
    _save_state(conversation, state)
    return AskRasa(spoken=speech, kind="speech", rasa_text=None, meta={"confidence": confidence})


def _handle_digits(
    services: ChannelServices,
    session: Session,
    tw: TwilioRequest,
    conversation: Conversation,
    digits: str,
    key: str,
) -> Response | AskRasa:
    language = conversation.language
    state = _state(conversation)
    state["silence"] = 0
    _save_state(conversation, state)
    mode = state.get("mode", "menu")
    buttons = [Button(str(b[0]), str(b[1])) for b in state.get("buttons") or []]
    rasa_text: str | None = None
    choice: dict[str, Any] = {}
    if buttons and len(digits) == 1 and digits.isdigit():
        index = int(digits) - 1
        if 0 <= index < len(buttons):
            rasa_text = buttons[index].payload
            choice = {"button": buttons[index].title}
    elif mode in ("menu", "language") and len(digits) == 1:
        if digits == "4":
            state.update(
                {"mode": "service", "buttons": [], "prompt": [text(language, "service_menu")]}
            )
            _save_state(conversation, state)
            n = _next_n(conversation)
            twiml = _prompt_twiml(
                [text(language, "service_menu")],
                language=language,
                services=services,
                n=n,
                num_digits=1,
            )
            message = _message(
                tw, text_value=digits, kind="dtmf", key=key, meta={"menu": "service"}
            )
            return _answer(services, session, conversation, message, twiml)
        rasa_text = MENU.get(digits)
        choice = {"menu": digits}
    elif mode == "service" and len(digits) == 1:
        rasa_text = SERVICE_MENU.get(digits)
        choice = {"menu": f"4{digits}"}
    else:
        # A number the assistant asked for (account number, ZIP): send it as text.
        return AskRasa(spoken=digits, kind="dtmf", rasa_text=None, meta={"digits": len(digits)})
    if rasa_text is None:
        twiml = _reprompt(services, conversation, before=[text(language, "not_option")])
        message = _message(tw, text_value=digits, kind="dtmf", key=key, meta={"invalid": True})
        return _answer(services, session, conversation, message, twiml)
    return AskRasa(
        spoken=digits, kind="dtmf", rasa_text=rasa_text, meta={**choice, "sent": rasa_text}
    )


# -- payment -------------------------------------------------------------------

_PAY_CANCELLED = frozenset({"caller-interrupted-with-star", "caller-hung-up"})


def _spell(code: str) -> str:
    """A confirmation code read out one character at a time."""
    return ", ".join(ch for ch in code if ch.isalnum())


@router.post("/twilio/voice/pay", response_class=Response)
def pay_result(tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep) -> Response:
    """``<Pay>``'s action: record the payment or the failure, speak the outcome."""
    conversation = _conversation_for(services, session, tw)
    language = conversation.language
    key = _turn_key(tw, "pay")
    result = tw.get("Result").lower()
    code = re.sub(r"[^A-Za-z0-9-]", "", tw.get("PaymentConfirmationCode"))[:64]
    query = _query(tw)
    amount = parse_amount(tw.get("ChargeAmount") or query.get("amount", ""))
    now = services.clock.now()
    # What Twilio reports about the card is masked already; keep only type and result.
    details = {
        "result": result,
        "card_type": tw.get("PaymentCardType")[:20],
        "error": tw.get("PaymentError")[:200],
        "connector_error": tw.get("ConnectorError")[:200],
        "amount": str(amount) if amount is not None else None,
    }
    message = _message(
        tw, text_value=f"payment {result or 'unknown'}", kind="payment", key=key, meta=details
    )
    try:
        entry = services.relay.record_inbound(
            session=session, message=message, conversation=conversation
        )
    except DuplicateMessage:
        return _replay(session, key, conversation)
    outcome = record_phone_payment(
        session=session,
        calendar=services.calendar,
        conversation=conversation,
        account_number=query.get("account", ""),
        result=result,
        confirmation=code,
        amount=amount,
        details=details,
        now=now,
    )
    before = [_spoken_outcome(language, outcome, result=result, amount=amount, code=code)]
    state = _state(conversation)
    state.update({"mode": "rasa", "buttons": [], "prompt": [text(language, "anything_else")]})
    _save_state(conversation, state)
    n = _next_n(conversation)
    twiml = _prompt_twiml(
        [*before, text(language, "anything_else")], language=language, services=services, n=n
    )
    remember_answer(entry, twiml)
    session.commit()
    return xml_response(twiml)


def _spoken_outcome(
    language: str | None,
    outcome: PhonePaymentOutcome,
    *,
    result: str,
    amount: Decimal | None,
    code: str,
) -> str:
    """What the caller hears about the payment."""
    if outcome is PhonePaymentOutcome.NOT_COMPLETED:
        return text(language, "pay_cancelled" if result in _PAY_CANCELLED else "pay_failed")
    spelled = _spell(code)
    if outcome is PhonePaymentOutcome.TO_POST:
        spelled = spelled or "-"  # the code may be missing: the sentence still reads
    return text(language, "paid", amount=_say_amount(amount or Decimal("0")), code=spelled)


def _say_amount(amount: Decimal) -> str:
    return f"{amount:.2f}"


# -- hand-off ------------------------------------------------------------------


def _ticket_from_query(session: Session, tw: TwilioRequest) -> Ticket | None:
    raw = _query(tw).get("ticket", "")
    if not raw.isdigit() or len(raw) > 12:
        return None
    return session.get(Ticket, int(raw))


@router.post("/twilio/voice/dial", response_class=Response)
def dial_result(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """After ``<Dial>``/``<Enqueue>``: done if answered, else voicemail."""
    conversation = _conversation_for(services, session, tw)
    status = (tw.get("DialCallStatus") or tw.get("QueueResult")).lower()
    ticket = _ticket_from_query(session, tw)
    now = services.clock.now()
    record_contact(
        session=session,
        channel="voice",
        direction="internal",
        kind="transfer",
        body=f"Transfer to a representative: {status or 'unknown'}.",
        at=now,
        conversation=conversation,
        actor="system",
        ticket_id=ticket.id if ticket else None,
    )
    response = VoiceResponse()
    if status in ("completed", "answered", "bridged"):
        conversation.outcome = conversation.outcome or "transferred"
        response.hangup()
    else:
        n = _next_n(conversation)
        route = handoff_route(services, conversation.language)
        render_voicemail(
            response,
            language=conversation.language,
            urls=voice_urls(services, n),
            ticket_id=ticket.id if ticket else None,
            after_hours=None if route.office_open else route.after_hours,
        )
    session.commit()
    return xml_response(str(response))


@router.post("/twilio/voice/whisper", response_class=Response)
def whisper(tw: TwilioRequestDep, session: SessionDep) -> Response:
    """What the CSR hears before the caller is connected: the case summary."""
    ticket = _ticket_from_query(session, tw)
    response = VoiceResponse()
    if ticket is not None:
        summary = redact_cards(ticket.summary)[:600]
        say(response, text("en", "whisper", ticket=ticket.id, summary=summary), "en")
    else:
        say(response, text("en", "whisper_plain"), "en")
    return xml_response(str(response))


@router.post("/twilio/voice/recorded", response_class=Response)
def voicemail_recorded(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """A voicemail is done: it becomes (or joins) a ticket with a callback request."""
    conversation = _conversation_for(services, session, tw)
    language = conversation.language
    recording_sid = tw.get("RecordingSid")[:64]
    recording_url = tw.get("RecordingUrl")[:1000]
    try:
        duration = int(tw.get("RecordingDuration") or "0")
    except ValueError:
        duration = 0
    response = VoiceResponse()
    if not recording_url or duration <= 0:
        say(response, text(language, "goodbye"), language)
        response.hangup()
        return xml_response(str(response))
    key = f"voice:{recording_sid or tw.get('CallSid')}:recording"
    message = _message(
        tw,
        text_value="(voicemail)",
        kind="voicemail",
        key=key,
        meta={"recording_url": recording_url, "recording_sid": recording_sid, "duration": duration},
    )
    try:
        entry = services.relay.record_inbound(
            session=session, message=message, conversation=conversation
        )
    except DuplicateMessage:
        return _replay(session, key, conversation)
    caller = _caller(tw)
    ticket = take_voicemail(
        session=session,
        calendar=services.calendar,
        conversation=conversation,
        ticket=_ticket_from_query(session, tw),
        callback_number="" if caller == "anonymous" else caller,
        recording_url=recording_url,
        recording_sid=recording_sid,
        duration=duration,
        now=services.clock.now(),
    )
    entry.ticket_id = ticket.id
    say(response, text(language, "voicemail_thanks"), language)
    response.hangup()
    twiml = str(response)
    remember_answer(entry, twiml)
    session.commit()
    return xml_response(twiml)


@router.post("/twilio/voice/transcription", response_class=Response)
def voicemail_transcription(
    tw: TwilioRequestDep, session: SessionDep, services: ChannelServicesDep
) -> Response:
    """Twilio's transcription of a voicemail: added to its ticket and the contact log."""
    recording_sid = tw.get("RecordingSid")[:64]
    status = tw.get("TranscriptionStatus").lower()
    transcript = redact_cards(tw.get("TranscriptionText"))[:4000]
    add_voicemail_transcription(
        session=session,
        ticket=_ticket_from_query(session, tw),
        recording_key=f"voice:{recording_sid}:recording",
        transcription_key=f"voice:{recording_sid}:transcription",
        recording_sid=recording_sid,
        status=status,
        transcript=transcript,
        now=services.clock.now(),
    )
    session.commit()
    return Response(status_code=204)
