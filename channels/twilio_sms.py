"""``POST /twilio/sms``: Twilio Messaging webhook → keywords or the assistant → TwiML.

Order of work for one inbound text:

1. signature (``channels.signature``; 403 otherwise), body size limits;
2. idempotency on ``MessageSid``: a redelivery gets the TwiML answered the
   first time and is not processed again;
3. STOP / START / HELP keywords (and plain-language opt-outs) are answered
   here, before Rasa, and recorded in the consent ledger; STATUS / STAT get
   the current notice for the sender's address when there is one;
4. a digit reply selects the numbered option offered last;
5. the common turn (:mod:`channels.relay`) asks Rasa;
6. replies are split into bodies Twilio accepts and returned as ``<Message>``s;
   MMS media URLs go on the contact log and on any open ticket; a hand-off
   after hours says when a person will follow up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from accounts.models import Account, ContactLog, Conversation, Ticket
from accounts.phone import normalize_phone
from accounts.services.consent import is_opted_out, record_opt_in, record_opt_out
from accounts.services.contacts import record_contact
from accounts.services.tickets import open_ticket_of
from accounts.sms_text import TWILIO_MAX_BODY
from channels.base import BotReply, Button, InboundMessage, Language
from channels.deps import ChannelServices, ChannelServicesDep
from channels.keywords import KeywordKind, KeywordMatch, classify_keyword
from channels.rasa_client import SMS_TIMEOUT_SECONDS
from channels.relay import (
    DuplicateMessage,
    PendingTurn,
    TurnResult,
    answered_before,
    remember_answer,
)
from channels.signature import TwilioRequest, TwilioRequestDep
from channels.sms_buttons import resolve_choice
from channels.twiml import offered_buttons, render_sms, sms_bodies, xml_response
from notices.status import current_status_for

logger = logging.getLogger(__name__)

router = APIRouter(tags=["twilio"])

MAX_MEDIA = 10
#: Only a short numeric reply can pick an offered option (saves a lookup otherwise).
_DIGIT_REPLY = re.compile(r"^\s*#?\s*\d{1,2}\s*[.)]?\s*$")

_MEDIA_ACK = {
    "en": "We got your photo and added it to your case.",
    "es": "Recibimos su foto y la agregamos a su caso.",
}
_PAY_LINK = {
    "en": "You can pay securely online: {link}",
    "es": "Puede pagar de forma segura en línea: {link}",
}


def _language(value: str | None) -> Language:
    return "es" if value and value.startswith("es") else "en"


def _media_urls(form: TwilioRequest) -> list[dict[str, str]]:
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media: list[dict[str, str]] = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if url.startswith("https://") or url.startswith("http://"):
            media.append(
                {"url": url[:1000], "content_type": form.get(f"MediaContentType{index}")[:100]}
            )
    return media


def _replay(session: Session, message_sid: str) -> str:
    return answered_before(session, message_sid) or render_sms([])


def _stored_buttons(conversation: Conversation) -> list[Button]:
    raw = (conversation.meta or {}).get("sms_buttons") or []
    buttons: list[Button] = []
    for item in raw:
        if isinstance(item, list | tuple) and len(item) == 2:
            buttons.append(Button(str(item[0]), str(item[1])))
    return buttons


def _remember(
    conversation: Conversation,
    entry: ContactLog | None,
    buttons: Sequence[Button],
    twiml: str,
) -> None:
    """Keep the offered options (for a digit reply) and the answer (for a redelivery)."""
    meta = dict(conversation.meta or {})
    meta["sms_buttons"] = [[b.title, b.payload] for b in buttons]
    conversation.meta = meta
    remember_answer(entry, twiml)


def _attach_media(
    session: Session,
    conversation: Conversation,
    media: list[dict[str, str]],
    entry: ContactLog | None,
    ticket_id: int | None,
) -> bool:
    """Add MMS media to the conversation's open ticket; True when one took them."""
    ticket = (
        session.get(Ticket, ticket_id)
        if ticket_id is not None
        else open_ticket_of(session=session, conversation_id=conversation.id)
    )
    if ticket is None:
        return False
    log_id = entry.id if entry is not None else None
    attachments = list(ticket.attachments or [])
    for item in media:
        attachments.append({**item, "source": "mms", "contact_log_id": log_id})
    ticket.attachments = attachments
    if entry is not None and entry.ticket_id is None:
        entry.ticket_id = ticket.id
    return True


def _keyword_reply(
    *,
    services: ChannelServices,
    session: Session,
    match: KeywordMatch,
    message: InboundMessage,
    conversation: Conversation,
) -> str | None:
    """Answer STOP/START/HELP/STATUS before the assistant; ``None`` lets the turn go on."""
    sender = message.sender
    district = services.district
    now = services.clock.now()
    language = _language(match.language or conversation.language)
    program = district.sms_program
    bodies: list[str] = []
    if match.kind is KeywordKind.OUTAGE:
        return None
    if match.kind is KeywordKind.STATUS:
        status = current_status_for(
            session=session, phone=sender, now=now, language=language, district=district
        )
        if status is None:
            return None  # no current notice here: the assistant answers (/outage)
        if not is_opted_out(session=session, address=sender, channel="sms"):
            bodies = [status]
    elif match.kind is KeywordKind.OPT_IN_IF_OPTED_OUT and not is_opted_out(
        session=session, address=sender, channel="sms"
    ):
        return None
    entry = services.relay.record_inbound(
        session=session,
        message=message,
        conversation=conversation,
        meta={"keyword": match.kind.value},
    )
    if match.kind is KeywordKind.OPT_OUT:
        changed = record_opt_out(
            session=session,
            address=sender,
            channel="sms",
            now=now,
            via="sms-keyword",
            text=message.text[:200],
        )
        # One confirmation per opt-out; a repeated STOP gets silence.
        if changed:
            bodies = [program.opt_out_confirmation.text(language)]
    elif match.kind in (KeywordKind.OPT_IN, KeywordKind.OPT_IN_IF_OPTED_OUT):
        record_opt_in(
            session=session,
            address=sender,
            channel="sms",
            now=now,
            via="sms-keyword",
            text=message.text[:200],
        )
        bodies = [program.opt_in_confirmation.text(language)]
    elif match.kind is KeywordKind.HELP:
        bodies = [program.help_text.text(language)]
    twiml = render_sms(bodies)
    for body in bodies:
        record_contact(
            session=session,
            channel="sms",
            direction="outbound",
            kind="message",
            body=body,
            at=now,
            conversation=conversation,
            actor="bot",
            meta={"keyword": match.kind.value},
        )
    _remember(conversation, entry, [], twiml)
    session.commit()
    return twiml


@dataclass
class _ToRasa:
    """A text that goes on to the assistant (its first transaction is committed)."""

    pending: PendingTurn
    rasa_text: str | None


def _before_rasa(
    services: ChannelServices,
    session: Session,
    message: InboundMessage,
    media: list[dict[str, str]],
) -> str | _ToRasa:
    """The first transaction: page replies, keywords, digit replies, the inbound record.

    Returns the TwiML when the gateway answers by itself, else the turn for Rasa.

    Raises:
        DuplicateMessage: The message was already handled.
    """
    relay = services.relay
    sender, body = message.sender, message.text
    # On-call staff acknowledging an emergency page ("ACK" / "ACK 12", issue 7) is
    # answered here, before keywords and the assistant; customers' texts pass on.
    page_reply = services.pager.reply_by_sms(
        session=session, from_number=sender, body=body, now=services.clock.now()
    )
    if page_reply is not None:
        session.commit()
        return render_sms([page_reply])
    conversation, _ = relay.open_conversation(
        session=session, message=message, conversation_key=sender
    )
    match = classify_keyword(body)
    if match is not None:
        twiml = _keyword_reply(
            services=services,
            session=session,
            match=match,
            message=message,
            conversation=conversation,
        )
        if twiml is not None:
            return twiml
    rasa_text: str | None = None
    if match is not None and match.kind in (KeywordKind.OUTAGE, KeywordKind.STATUS):
        rasa_text = "/outage"
    elif not body and media:
        # A photo without words: let the assistant ask what it shows.
        rasa_text = "I am sending a photo."
    elif not body:
        # An empty text: nothing to ask the assistant; record it, answer nothing.
        entry = relay.record_inbound(session=session, message=message, conversation=conversation)
        twiml = render_sms([])
        _remember(conversation, entry, _stored_buttons(conversation), twiml)
        session.commit()
        return twiml
    elif _DIGIT_REPLY.match(body):
        rasa_text = resolve_choice(body, _stored_buttons(conversation))
    pending = relay.begin_turn(
        session=session, message=message, conversation_key=sender, conversation=conversation
    )
    return _ToRasa(pending=pending, rasa_text=rasa_text)


@router.post("/twilio/sms", response_class=Response)
async def inbound_sms(tw: TwilioRequestDep, services: ChannelServicesDep) -> Response:
    """Twilio's inbound-message webhook; answers with TwiML ``<Message>``s.

    Two transactions in worker threads (before and after Rasa); only the wait
    for Rasa runs on the event loop.
    """
    message_sid = tw.get("MessageSid") or tw.get("SmsSid")
    raw_from = tw.get("From")
    if not message_sid or not raw_from:
        logger.warning("sms webhook without MessageSid or From")
        return xml_response(render_sms([]))
    sender = normalize_phone(raw_from) or raw_from[:40]
    body = tw.form.get("Body", "") or ""
    truncated = len(body) > TWILIO_MAX_BODY
    body = body[:TWILIO_MAX_BODY]
    media = _media_urls(tw)
    meta: dict[str, Any] = {"to": tw.get("To")}
    if tw.get("MessagingServiceSid"):
        meta["messaging_service_sid"] = tw.get("MessagingServiceSid")
    if truncated:
        meta["truncated"] = True
    message = InboundMessage(
        channel="sms",
        sender=sender,
        text=body.strip(),
        external_id=message_sid,
        media_urls=tuple(m["url"] for m in media),
        meta={**meta, "media": media} if media else meta,
    )
    with services.session_factory() as session:
        try:
            step = await to_thread.run_sync(_before_rasa, services, session, message, media)
            if isinstance(step, str):
                return xml_response(step)
            twiml = await services.relay.complete_turn(
                session=session,
                pending=step.pending,
                timeout=SMS_TIMEOUT_SECONDS,
                rasa_text=step.rasa_text,
                extra_metadata={"input": "text"},
                then=partial(_finish, services, session, media),
            )
        except DuplicateMessage:
            twiml = await to_thread.run_sync(_replay, session, message_sid)
    return xml_response(twiml)


def _finish(
    services: ChannelServices,
    session: Session,
    media: list[dict[str, str]],
    result: TurnResult,
) -> str:
    """Render, record and remember the replies of a turn; returns the TwiML.

    Runs in the turn's second transaction; the relay commits right after.
    """
    conversation = result.conversation
    language = _language(conversation.language)
    replies = list(result.replies)
    if media and _attach_media(session, conversation, media, result.inbound, result.ticket_id):
        replies.append(BotReply(text=_MEDIA_ACK[language]))
    for reply in list(replies):
        if reply.custom_type == "pay" and not reply.text and reply.custom is not None:
            account = str(reply.custom.get("account") or "")
            if not account and conversation.account_id:
                linked = session.get(Account, conversation.account_id)
                account = linked.number if linked else ""
            link = services.district.payments.portal_link(account)
            replies.append(BotReply(text=_PAY_LINK[language].format(link=link)))
    if result.handed_off_now and not services.calendar.is_open(
        services.clock.now()
    ):
        # After hours: when a person will follow up (the apology names the emergency line).
        replies.append(
            BotReply(text=services.relay.follow_up_text(language, emergency=not result.degraded))
        )
    if is_opted_out(session=session, address=conversation.customer_address, channel="sms"):
        # Nothing goes to an opted-out number, not even a reply.
        bodies: list[str] = []
    else:
        bodies = sms_bodies(replies, language=language)
    twiml = render_sms(bodies)
    services.relay.record_replies(
        session=session,
        conversation=conversation,
        replies=replies,
        rendered=bodies,
        ticket_id=result.ticket_id,
    )
    buttons = offered_buttons(replies) if replies else _stored_buttons(conversation)
    _remember(conversation, result.inbound, buttons, twiml)
    return twiml
