"""Proactive notices: tell affected customers about outages, planned work and boil-water notices.

When a notice is created, updated or closed (``assistant notice create|update|close``
or the CSR app, through :func:`create_notice` / :func:`update_notice` /
:func:`close_notice`), :func:`announce_notice`:

1. finds the affected accounts (the notice's zones and street blocks, matched
   exactly as ``accounts.services.notices`` matches them for the assistant);
2. picks one address per customer: a phone (SMS) when one is on file and not
   opted out, else an email address not opted out; the consent ledger is read
   once for the whole batch, and undeliverable contacts are skipped;
3. writes the text in the customer's language (``Customer.language``);
4. enqueues the messages in the outbox (``OutboundMessage`` purpose ``notice``)
   with a send schedule: SMS paced per sending number at
   ``TWILIO_SMS_PER_SECOND`` segments a second, after whatever that number has
   queued already; non-safety messages whose slot falls in the district's quiet
   hours (21:00–08:00) move to the end of the quiet hours (``not_before``);
   safety notices are never held;
5. an update or a closure cancels the notice's messages still waiting in the
   outbox (so nobody hears "water off" after "water restored"); a closure sends
   a restoration message to everyone who was sent the notice.

:func:`dispatch_due` (run by ``assistant oncall watch``, or ``assistant notice
dispatch``) sends what is due. **A notice is written to the recipient's contact
log when it is actually sent**, not when it is queued: a message cancelled by a
later update or blocked by a later STOP was never a contact. The entry carries
the account, the notice id and the outbox row id.

:func:`latest_status_for` answers an SMS "STATUS"/"STAT" with the latest notice
for the sender's service address.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from accounts.business_calendar import BusinessCalendar
from accounts.clock import as_utc
from accounts.district import District, load_district
from accounts.email_message import ReplyDraft, SendError, render_email
from accounts.models import (
    NOTICE_KINDS,
    Account,
    ContactPoint,
    Customer,
    Notice,
    OutboundMessage,
)
from accounts.redact import mask_address
from accounts.services.consent import is_opted_out, opted_out_addresses
from accounts.services.contacts import record_contact
from accounts.services.lookup import find_accounts_by_phone
from accounts.services.notices import (
    account_is_affected,  # the one definition of "this account is affected"
    notices_for_account,
)
from accounts.settings import Settings, get_settings
from accounts.sms_text import segment_count, split_message

__all__ = [
    "EVENTS",
    "AnnounceReport",
    "Candidate",
    "ConsoleEmail",
    "DispatchReport",
    "NoticeError",
    "Recipient",
    "account_is_affected",
    "affected_candidates",
    "announce_notice",
    "close_notice",
    "compose",
    "create_notice",
    "current_status_for",
    "dispatch_due",
    "latest_status_for",
    "parse_street",
    "select_recipients",
    "update_notice",
]

logger = logging.getLogger(__name__)

EVENTS = ("created", "updated", "closed")
#: Recently closed notices still answer STATUS ("service was restored at ...").
RECENTLY_CLOSED = timedelta(hours=24)
EMAIL_RETRY_DELAYS = (60, 300, 900, 3600)


class NoticeError(ValueError):
    """A notice request is invalid (staff input), e.g. an unknown kind or a bad street block."""


# -- who is affected -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """An affected account's customer and their deliverable contacts, best first."""

    account_id: int
    customer_id: int
    language: str
    contacts: tuple[tuple[str, str], ...]  # (kind, value): phones first, primary first


def affected_candidates(*, session: Session, notice: Notice) -> list[Candidate]:
    """Open accounts in the notice's zones and street blocks, with their contacts.

    Plain column queries rather than ORM objects: a district-wide notice reads
    tens of thousands of rows and only needs a few columns of each.
    """
    if not notice.zones:
        return []
    in_area = (Account.zone.in_(list(notice.zones)), Account.status != "closed")
    accounts = session.execute(
        select(
            Account.id,
            Account.customer_id,
            Account.zone,
            Account.street_name,
            Account.street_number,
            Customer.language,
        )
        .join(Customer, Customer.id == Account.customer_id)
        .where(*in_area)
        .order_by(Account.id)
    ).all()
    contact_rows = session.execute(
        select(
            ContactPoint.customer_id,
            ContactPoint.kind,
            ContactPoint.value,
            ContactPoint.is_primary,
            ContactPoint.id,
        )
        .join(Account, Account.customer_id == ContactPoint.customer_id)
        .where(*in_area, ContactPoint.undeliverable.is_(False))
    ).all()
    by_customer: dict[int, dict[int, tuple[bool, bool, int, str, str]]] = {}
    for customer_id, kind, value, is_primary, point_id in contact_rows:
        by_customer.setdefault(customer_id, {})[point_id] = (
            kind != "phone",
            not is_primary,
            point_id,
            kind,
            value,
        )
    candidates: list[Candidate] = []
    for row in accounts:
        if not account_is_affected(notice, row):
            continue
        ranked = sorted(by_customer.get(row.customer_id, {}).values())
        candidates.append(
            Candidate(
                account_id=row.id,
                customer_id=row.customer_id,
                language=_language(row.language),
                contacts=tuple((kind, value) for *_, kind, value in ranked),
            )
        )
    return candidates


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address to notify, for one customer."""

    channel: str  # sms | email
    address: str
    language: str
    account_id: int | None


@dataclass
class Selection:
    """Recipients chosen and why others were left out."""

    recipients: list[Recipient] = field(default_factory=list)
    opted_out: int = 0
    no_contact: int = 0


def _language(value: str | None) -> str:
    return "es" if value and value.lower().startswith("es") else "en"


def select_recipients(
    *, session: Session, candidates: Iterable[Candidate], extra: Iterable[Recipient] = ()
) -> Selection:
    """One address per customer: SMS when possible, else email; opted-out addresses never.

    Args:
        session: Database session (reads the consent ledger once).
        candidates: Affected accounts with their contacts (:func:`affected_candidates`).
        extra: Earlier recipients to include too (an update reaches everybody told
            before, even when the notice's area shrank).
    """
    blocked = {
        "sms": opted_out_addresses(session=session, channel="sms"),
        "email": opted_out_addresses(session=session, channel="email"),
    }
    selection = Selection()
    seen_customers: set[int] = set()
    seen_addresses: set[str] = set()
    for candidate in candidates:
        if candidate.customer_id in seen_customers:
            continue
        seen_customers.add(candidate.customer_id)
        chosen: Recipient | None = None
        any_blocked = False
        for kind, value in candidate.contacts:
            channel = "sms" if kind == "phone" else "email"
            if value in blocked[channel]:
                any_blocked = True
                continue
            chosen = Recipient(channel, value, candidate.language, candidate.account_id)
            break
        if chosen is None:
            if any_blocked:
                selection.opted_out += 1
            else:
                selection.no_contact += 1
            continue
        if chosen.address in seen_addresses:
            continue
        seen_addresses.add(chosen.address)
        selection.recipients.append(chosen)
    for recipient in extra:
        if recipient.address in seen_addresses:
            continue
        seen_addresses.add(recipient.address)
        if recipient.address in blocked[recipient.channel]:
            selection.opted_out += 1
            continue
        selection.recipients.append(recipient)
    return selection


def _announced_before(session: Session, notice_id: int) -> bool:
    """Whether any message about the notice was ever queued."""
    statement = select(OutboundMessage.id).where(OutboundMessage.notice_id == notice_id).limit(1)
    return session.scalar(statement) is not None


def _earlier_recipients(session: Session, notice_id: int) -> list[Recipient]:
    """Everybody a message about the notice actually went to, from the outbox."""
    rows = session.execute(
        select(OutboundMessage.channel, OutboundMessage.to_address, OutboundMessage.headers)
        .where(OutboundMessage.notice_id == notice_id, OutboundMessage.sent_at.is_not(None))
        .order_by(OutboundMessage.id)
    ).all()
    found: dict[str, Recipient] = {}
    for channel, address, headers in rows:
        meta = headers or {}
        account_id = meta.get("account_id")
        found.setdefault(
            address,
            Recipient(
                channel,
                address,
                _language(str(meta.get("language") or "en")),
                int(account_id) if isinstance(account_id, int) else None,
            ),
        )
    return list(found.values())


# -- what the message says --------------------------------------------------------------

_PREFIX = {
    "created": {
        "unplanned_outage": {"en": "Outage", "es": "Corte de agua"},
        "planned_work": {"en": "Planned work", "es": "Trabajo programado"},
        "boil_water": {"en": "BOIL WATER NOTICE", "es": "AVISO DE HERVIR EL AGUA"},
    },
    "updated": {
        "unplanned_outage": {"en": "Outage update", "es": "Actualización del corte"},
        "planned_work": {"en": "Planned work update", "es": "Actualización del trabajo"},
        "boil_water": {
            "en": "BOIL WATER NOTICE update",
            "es": "Actualización del AVISO DE HERVIR EL AGUA",
        },
    },
}
_RESTORED = {
    "unplanned_outage": {
        "en": "Water service is restored ({title}). Thank you for your patience. If you still "
        "have no water, call {phone}.",
        "es": "El servicio de agua está restablecido. Gracias por su paciencia. Si todavía no "
        "tiene agua, llame al {phone}.",
    },
    "planned_work": {
        "en": "The planned work is finished ({title}) and water service is back on. If you have "
        "no water, call {phone}.",
        "es": "El trabajo programado terminó y el servicio de agua está restablecido. Si no "
        "tiene agua, llame al {phone}.",
    },
    "boil_water": {
        "en": "The boil-water notice is lifted ({title}): tap water is safe to drink again. Run "
        "cold taps for 2 minutes before use. Questions: {phone}.",
        "es": "Se levantó el aviso de hervir el agua: el agua de la llave es segura otra vez. "
        "Deje correr el agua fría 2 minutos antes de usarla. Preguntas: {phone}.",
    },
}
_FOOTER = {
    "sms": {
        "en": "Reply STATUS for updates, STOP to opt out.",
        "es": "Responda STATUS para novedades, STOP para cancelar.",
    },
    "email": {
        "en": "Reply STATUS by text or see {website} for updates.",
        "es": "Envíe STATUS por texto o visite {website} para novedades.",
    },
}
_ETA = {"en": "Estimated restoration: {when}.", "es": "Restablecimiento estimado: {when}."}
_SUBJECT_ES = {
    "unplanned_outage": "corte de agua",
    "planned_work": "trabajo programado",
    "boil_water": "aviso de hervir el agua",
}


def describe_time(at: datetime, now: datetime, district: District, language: str) -> str:
    """A local time for a customer: "3:30 PM" today, "Friday 9:00 AM" otherwise."""
    local = as_utc(at).astimezone(district.tz)
    today = as_utc(now).astimezone(district.tz).date()
    hour = local.hour % 12 or 12
    if language == "es":
        clock = f"{hour}:{local.minute:02d} {'a. m.' if local.hour < 12 else 'p. m.'}"
        days = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
        if local.date() == today:
            return f"hoy a las {clock}"
        return f"el {days[local.weekday()]} {local.day} a las {clock}"
    clock = f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    if local.date() == today:
        return f"today at {clock}"
    return f"{local.strftime('%A %b')} {local.day} at {clock}"


def compose(
    *,
    notice: Notice,
    event: str,
    language: str,
    channel: str,
    district: District,
    now: datetime,
) -> tuple[str, str]:
    """``(subject, body)`` of one notice message (subject is empty for SMS)."""
    lang = _language(language)
    phone = district.contact.phone_display
    if event == "closed":
        text = _RESTORED[notice.kind][lang].format(title=notice.title, phone=phone)
    else:
        prefix = _PREFIX[event][notice.kind][lang]
        text = f"{prefix}: {notice.text_es if lang == 'es' else notice.text_en}".strip()
        if notice.estimated_restoration_at is not None:
            when = describe_time(notice.estimated_restoration_at, now, district, lang)
            text = f"{text} {_ETA[lang].format(when=when)}"
    footer = _FOOTER[channel][lang].format(website=district.contact.website)
    body = f"{district.short_name}: {text} {footer}"
    if channel == "sms":
        return "", body
    kind_words = notice.title if lang == "en" else _SUBJECT_ES[notice.kind]
    subject = f"{district.short_name}: {kind_words}"
    if event == "closed":
        subject += " — restored" if lang == "en" else " — terminado"
    elif event == "updated":
        subject += " (update)" if lang == "en" else " (actualización)"
    signature = district.email.signature.text(lang)
    return subject, f"{text}\n\n{footer}\n\n-- \n{signature}"


# -- scheduling and enqueueing ------------------------------------------------------------


@dataclass
class AnnounceReport:
    """What :func:`announce_notice` queued."""

    notice_id: int
    event: str
    recipients: int = 0
    sms_rows: int = 0
    email_rows: int = 0
    opted_out: int = 0
    no_contact: int = 0
    canceled: int = 0
    held: int = 0
    first_send_at: datetime | None = None
    last_send_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for the CLI and the CSR app)."""
        return {
            "notice_id": self.notice_id,
            "event": self.event,
            "recipients": self.recipients,
            "sms_rows": self.sms_rows,
            "email_rows": self.email_rows,
            "skipped_opted_out": self.opted_out,
            "skipped_no_contact": self.no_contact,
            "canceled_earlier": self.canceled,
            "held_for_quiet_hours": self.held,
            "first_send_at": self.first_send_at.isoformat() if self.first_send_at else None,
            "last_send_at": self.last_send_at.isoformat() if self.last_send_at else None,
        }


def sender_key(settings: Settings) -> str:
    """The sending number pacing is counted per (same rule as the outbound SMS sender)."""
    return settings.twilio.messaging_service_sid or settings.twilio.from_number


def _sms_queue_tail(session: Session, key: str, interval: timedelta) -> datetime | None:
    """When the sending number is free after what it has queued already."""
    latest = session.scalar(
        select(func.max(OutboundMessage.next_attempt_at)).where(
            OutboundMessage.channel == "sms",
            OutboundMessage.status == "queued",
            OutboundMessage.sent_at.is_(None),
            OutboundMessage.from_address == key,
        )
    )
    return as_utc(latest) + interval if latest is not None else None


class _Slots:
    """Hands out send times: paced per segment, moved out of quiet hours unless safety."""

    def __init__(
        self, start: datetime, interval: timedelta, calendar: BusinessCalendar, safety: bool
    ) -> None:
        self.cursor = start
        self.interval = interval
        self.calendar = calendar
        self.safety = safety
        self.held = False

    def take(self, segments: int) -> tuple[datetime, bool]:
        """The next send time and whether quiet hours held it (then and for the rest)."""
        if not self.safety and self.calendar.in_quiet_hours(self.cursor):
            self.cursor = self.calendar.quiet_hours_end(self.cursor)
            self.held = True
        slot = self.cursor
        self.cursor = slot + self.interval * max(segments, 1)
        return slot, self.held


def announce_notice(
    *,
    session: Session,
    notice: Notice,
    event: str,
    now: datetime,
    calendar: BusinessCalendar,
    settings: Settings,
) -> AnnounceReport:
    """Queue the messages for a notice event (``created``, ``updated`` or ``closed``).

    Args:
        session: Database session; the caller commits.
        notice: The notice (already saved with its new state).
        event: What happened to it.
        now: The current instant.
        calendar: Quiet hours (district file) and the district's wording.
        settings: SMS rate (``twilio.sms_per_second``), sending number, email sender.

    Returns:
        Counts and the first and last scheduled send times.

    Raises:
        NoticeError: Unknown event.
    """
    if event not in EVENTS:
        raise NoticeError(f"unknown notice event {event!r}")
    district = calendar.district
    report = AnnounceReport(notice_id=notice.id, event=event)
    if event in ("updated", "closed"):
        # Superseded messages never go out: the newest word is the one that counts.
        result = session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.notice_id == notice.id,
                OutboundMessage.status == "queued",
                # Twilio also says "queued" for what it accepted: that has gone.
                OutboundMessage.sent_at.is_(None),
            )
            .values(status="canceled", last_error=f"superseded by notice {event}")
        )
        report.canceled = int(getattr(result, "rowcount", 0) or 0)
    announced = _announced_before(session, notice.id)
    earlier = _earlier_recipients(session, notice.id)
    if event == "closed" and announced:
        # Close the loop with the people who heard about it (nobody else needs to).
        candidates: list[Candidate] = []
    else:
        candidates = affected_candidates(session=session, notice=notice)
    selection = select_recipients(session=session, candidates=candidates, extra=earlier)
    report.recipients = len(selection.recipients)
    report.opted_out, report.no_contact = selection.opted_out, selection.no_contact
    safety = notice.safety and event != "closed"
    key = sender_key(settings)
    interval = timedelta(seconds=1.0 / settings.twilio.sms_per_second)
    sms_start = max(now, _sms_queue_tail(session, key, interval) or now)
    sms_slots = _Slots(sms_start, interval, calendar, safety)
    # Email is not rate-limited by Twilio; it only respects quiet hours.
    email_slots = _Slots(now, timedelta(0), calendar, safety)
    # (channel, language) -> subject and [(part, segments)]: one text per language.
    texts: dict[tuple[str, str], tuple[str, list[tuple[str, int]]]] = {}
    rows: list[dict[str, Any]] = []
    for recipient in selection.recipients:
        cache_key = (recipient.channel, recipient.language)
        if cache_key not in texts:
            subject, body = compose(
                notice=notice,
                event=event,
                language=recipient.language,
                channel=recipient.channel,
                district=district,
                now=now,
            )
            if recipient.channel == "sms":
                parts = [(part, segment_count(part)) for part in split_message(body)]
            else:
                parts = [(body, 1)]
            texts[cache_key] = (subject, parts)
        subject, parts = texts[cache_key]
        for index, (part, segments) in enumerate(parts):
            slots = sms_slots if recipient.channel == "sms" else email_slots
            slot, held = slots.take(segments)
            report.held += int(held and index == 0)
            rows.append(
                {
                    "channel": recipient.channel,
                    "purpose": "notice",
                    "to_address": recipient.address,
                    "from_address": key
                    if recipient.channel == "sms"
                    else settings.smtp.from_address,
                    "subject": subject,
                    "body": part,
                    "html_body": "",
                    "headers": {
                        "account_id": recipient.account_id,
                        "language": recipient.language,
                        "event": event,
                        "part": index + 1,
                        "parts": len(parts),
                    },
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": slot,
                    "not_before": slot if held else None,
                    "last_error": "",
                    "created_at": now,
                    "notice_id": notice.id,
                }
            )
            if recipient.channel == "sms":
                report.sms_rows += 1
            else:
                report.email_rows += 1
            if report.first_send_at is None or slot < report.first_send_at:
                report.first_send_at = slot
            if report.last_send_at is None or slot > report.last_send_at:
                report.last_send_at = slot
    if rows:
        # One multi-row INSERT per chunk: 10,000 recipients enqueue in seconds.
        for start in range(0, len(rows), 1000):
            session.execute(insert(OutboundMessage), rows[start : start + 1000])
    session.flush()
    logger.info(
        "notice %s %s: %s recipients queued (%s opted out, %s without contact)",
        notice.id,
        event,
        report.recipients,
        report.opted_out,
        report.no_contact,
    )
    return report


# -- notices themselves ------------------------------------------------------------------

_STREET = re.compile(r"^\s*(?P<name>[^:]+?)\s*(?::\s*(?P<low>\d+)\s*-\s*(?P<high>\d+))?\s*$")


def parse_street(text: str) -> dict[str, Any]:
    """``"Oak Street:400-700"`` → ``{"street": "Oak Street", "from": 400, "to": 700}``.

    Raises:
        NoticeError: Not a street name with an optional block range.
    """
    match = _STREET.match(text)
    if match is None or not match.group("name").strip():
        raise NoticeError(f"street {text!r}: expected NAME or NAME:FROM-TO")
    low, high = match.group("low"), match.group("high")
    if low is not None and high is not None and int(low) > int(high):
        raise NoticeError(f"street {text!r}: block range runs backwards")
    return {
        "street": match.group("name").strip(),
        "from": int(low) if low is not None else None,
        "to": int(high) if high is not None else None,
    }


def create_notice(
    *,
    session: Session,
    now: datetime,
    kind: str,
    title: str,
    zones: Sequence[str],
    text_en: str,
    text_es: str,
    streets: Sequence[dict[str, Any]] = (),
    cause: str = "",
    starts_at: datetime | None = None,
    estimated_restoration_at: datetime | None = None,
    safety: bool = False,
) -> Notice:
    """Save a new notice (announce it with :func:`announce_notice`, event ``created``).

    Raises:
        NoticeError: Unknown kind, no zone, or missing text.
    """
    if kind not in NOTICE_KINDS:
        raise NoticeError(f"kind must be one of {', '.join(NOTICE_KINDS)}")
    if not zones:
        raise NoticeError("a notice needs at least one zone")
    if not title.strip() or not text_en.strip() or not text_es.strip():
        raise NoticeError("a notice needs a title and texts in English and Spanish")
    starts = starts_at or now
    notice = Notice(
        kind=kind,
        status="scheduled" if starts > now else "active",
        title=title.strip(),
        cause=cause,
        zones=list(zones),
        streets=[dict(s) for s in streets],
        starts_at=starts,
        estimated_restoration_at=estimated_restoration_at,
        ended_at=None,
        text_en=text_en.strip(),
        text_es=text_es.strip(),
        safety=safety,
        created_at=now,
        updated_at=now,
    )
    session.add(notice)
    session.flush()
    return notice


def update_notice(*, session: Session, notice: Notice, now: datetime, **changes: Any) -> Notice:
    """Change a notice's fields (``title``, ``text_en``, ``text_es``, ``zones``,
    ``streets``, ``estimated_restoration_at``, ``safety``, ``cause``, ``starts_at``).

    Raises:
        NoticeError: The notice is closed, or a field is unknown.
    """
    allowed = {
        "title",
        "text_en",
        "text_es",
        "zones",
        "streets",
        "estimated_restoration_at",
        "safety",
        "cause",
        "starts_at",
    }
    if notice.status == "closed":
        raise NoticeError(f"notice {notice.id} is closed")
    unknown = set(changes) - allowed
    if unknown:
        raise NoticeError(f"cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if value is not None:
            setattr(notice, name, value)
    if notice.status == "scheduled" and as_utc(notice.starts_at) <= now:
        notice.status = "active"
    notice.updated_at = now
    session.flush()
    return notice


def close_notice(*, session: Session, notice: Notice, now: datetime) -> Notice:
    """Mark a notice ended (service restored / notice lifted).

    Raises:
        NoticeError: It is closed already.
    """
    if notice.status == "closed":
        raise NoticeError(f"notice {notice.id} is closed already")
    notice.status, notice.ended_at, notice.updated_at = "closed", now, now
    session.flush()
    return notice


# -- sending what is due ----------------------------------------------------------------


class SmsDelivery(Protocol):
    """Sends a queued SMS outbox row (``channels.outbound_sms.SmsSender``)."""

    def deliver(self, *, session: Session, row: OutboundMessage) -> None:
        """Send ``row`` (consent checked, paced, retried) and record the outcome on it."""
        ...


class EmailTransport(Protocol):
    """An async email sender (``inbox.reply.SmtpSender``)."""

    async def send(self, message: Any) -> None:
        """Deliver a rendered ``EmailMessage``."""
        ...


class ConsoleEmail:
    """The demo's email transport (no SMTP server set): prints what would be sent."""

    async def send(self, message: Any) -> None:
        """Print the recipient (masked) and subject."""
        print(f"[email to {mask_address(str(message['To']))}] {message['Subject']}", flush=True)


@dataclass
class DispatchReport:
    """What one :func:`dispatch_due` pass did."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retrying: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


async def _deliver_email(
    email: EmailTransport, row: OutboundMessage, now: datetime, report: DispatchReport
) -> None:
    draft = ReplyDraft(
        to_address=row.to_address,
        from_address=row.from_address,
        subject=row.subject,
        body_text=row.body,
        # RFC 3834: a notification, not a reply; out-of-office robots stay quiet.
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    row.attempts += 1
    try:
        await email.send(render_email(draft))
    except SendError as exc:
        row.last_error = str(exc)[:300]
        if exc.permanent or row.attempts > len(EMAIL_RETRY_DELAYS):
            row.status = "failed"
        else:
            row.next_attempt_at = now + timedelta(seconds=EMAIL_RETRY_DELAYS[row.attempts - 1])
            report.retrying += 1
        return
    row.status, row.sent_at = "sent", now


async def dispatch_due(
    *,
    session: Session,
    now: datetime,
    sms: SmsDelivery,
    email: EmailTransport | None,
    limit: int = 200,
) -> DispatchReport:
    """Send queued notice messages that are due; log each one sent on the contact log.

    Args:
        session: Database session; committed after each message so a crash
            never re-sends what went out.
        now: The current instant.
        sms: The outbound SMS sender (``SmsSender``; its console transport in the demo).
        email: The email sender, or ``None`` to leave email rows queued.
        limit: Most messages this pass.
    """
    report = DispatchReport()
    channels = ["sms"] + (["email"] if email is not None else [])
    due = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.purpose == "notice",
            OutboundMessage.status == "queued",
            OutboundMessage.sent_at.is_(None),
            OutboundMessage.channel.in_(channels),
            OutboundMessage.next_attempt_at <= now,
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    ).all()
    for row in due:
        if row.not_before is not None and as_utc(row.not_before) > now:
            continue
        if row.channel == "sms":
            # The sender checks the consent ledger, paces, retries and records
            # Twilio's answer on our already-queued row.
            sms.deliver(session=session, row=row)
        elif email is not None:
            if is_opted_out(session=session, address=row.to_address, channel="email"):
                row.status, row.last_error = "blocked", "recipient opted out"
            else:
                await _deliver_email(email, row, now, report)
        report.by_status[row.status] = report.by_status.get(row.status, 0) + 1
        if row.status in ("sent", "queued", "accepted", "console") and row.sent_at is not None:
            report.sent += 1
            _log_sent(session, row, now)
        elif row.status == "blocked":
            report.blocked += 1
        elif row.status == "failed":
            report.failed += 1
        session.commit()
    return report


def _log_sent(session: Session, row: OutboundMessage, now: datetime) -> None:
    meta = row.headers or {}
    account_id = meta.get("account_id")
    account = session.get(Account, account_id) if isinstance(account_id, int) else None
    record_contact(
        session=session,
        channel=row.channel,
        direction="outbound",
        kind="notice",
        body=row.body if row.channel == "sms" else f"{row.subject}\n\n{row.body}",
        at=now,
        account=account,
        actor="system",
        meta={
            "notice_id": row.notice_id,
            "outbound_id": row.id,
            "event": meta.get("event"),
            "to": mask_address(row.to_address),
        },
    )


# -- STATUS replies ---------------------------------------------------------------------

_STATUS_TEXT = {
    "none": {
        "en": "{name}: there is no outage or notice for your address right now. To report a "
        "problem call {phone}.",
        "es": "{name}: no hay cortes ni avisos para su dirección en este momento. Para reportar "
        "un problema llame al {phone}.",
    },
    "unknown": {
        "en": "{name}: we could not match this number to a service address. {summary}",
        "es": "{name}: no pudimos relacionar este número con una dirección de servicio. {summary}",
    },
    "active_count": {
        "en": "Active notices: {items}. Details: {website}",
        "es": "Avisos activos: {items}. Detalles: {website}",
    },
    "no_active": {
        "en": "There are no active outages or notices.",
        "es": "No hay cortes ni avisos activos.",
    },
    "restored": {
        "en": "{name}: {title} ended {when}. If you still have a problem call {phone}.",
        "es": "{name}: el aviso terminó {when}. Si todavía tiene un problema llame al {phone}.",
    },
}


@lru_cache(maxsize=1)
def _configured_district() -> District:
    return load_district(get_settings().district_file)


def _current_status(
    session: Session, accounts: Sequence[Account], now: datetime, district: District, lang: str
) -> str | None:
    current: list[Notice] = []
    for account in accounts:
        current += notices_for_account(session=session, account=account, now=now)
    if not current:
        return None
    latest = max(current, key=lambda n: (as_utc(n.updated_at), n.id))
    _, body = compose(
        notice=latest,
        event="updated" if as_utc(latest.updated_at) > as_utc(latest.created_at) else "created",
        language=lang,
        channel="sms",
        district=district,
        now=now,
    )
    return body


def current_status_for(
    *,
    session: Session,
    phone: str,
    now: datetime,
    language: str,
    district: District | None = None,
) -> str | None:
    """The latest active or upcoming notice for ``phone``'s service address, as SMS text.

    ``None`` when the number matches no account or no current notice affects it
    (the SMS channel then lets the assistant answer). Arguments as for
    :func:`latest_status_for`.
    """
    accounts = find_accounts_by_phone(session=session, phone=phone)
    if not accounts:
        return None
    return _current_status(
        session, accounts, now, district or _configured_district(), _language(language)
    )


def latest_status_for(
    *,
    session: Session,
    phone: str,
    now: datetime,
    language: str,
    district: District | None = None,
) -> str:
    """The answer to "STATUS" from ``phone``: the latest notice for its service address.

    Active and upcoming notices come first (the most recently updated); a notice
    closed in the last 24 hours is reported as ended; an unknown number gets the
    district-wide list of active notices (public information).

    Args:
        session: Database session.
        phone: The sender (any format).
        now: The current instant.
        language: ``en`` or ``es`` (the conversation's language).
        district: Names, phone and website for the text (default: the configured
            district file).
    """
    district = district or _configured_district()
    lang = _language(language)
    name = district.short_name
    phone_display = district.contact.phone_display
    accounts = find_accounts_by_phone(session=session, phone=phone)
    if not accounts:
        return _STATUS_TEXT["unknown"][lang].format(
            name=name, summary=_public_summary(session, now, district, lang)
        )
    current = _current_status(session, accounts, now, district, lang)
    if current is not None:
        return current
    recent = session.scalars(
        select(Notice)
        .where(Notice.status == "closed", Notice.ended_at >= now - RECENTLY_CLOSED)
        .order_by(Notice.ended_at.desc())
    ).all()
    for notice in recent:
        if any(account_is_affected(notice, account) for account in accounts):
            ended = notice.ended_at or notice.updated_at
            return _STATUS_TEXT["restored"][lang].format(
                name=name,
                title=notice.title,
                when=describe_time(ended, now, district, lang),
                phone=phone_display,
            )
    return _STATUS_TEXT["none"][lang].format(name=name, phone=phone_display)


def _public_summary(session: Session, now: datetime, district: District, lang: str) -> str:
    active = session.scalars(
        select(Notice)
        .where(Notice.status == "active", Notice.starts_at <= now)
        .order_by(Notice.updated_at.desc())
        .limit(5)
    ).all()
    if not active:
        return _STATUS_TEXT["no_active"][lang]
    items = "; ".join(n.title for n in active)
    return _STATUS_TEXT["active_count"][lang].format(items=items, website=district.contact.website)
