"""Answers to an SMS "STATUS"/"STAT": the latest notice for the sender's service address.

The SMS channel asks :func:`current_status_for` first and lets the assistant
answer when there is nothing current; :func:`latest_status_for` is the full
answer, with recently ended notices and, for an unknown number, the public
list of active notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.clock import as_utc
from accounts.district import District
from accounts.models import Account, Notice
from accounts.services.lookup import find_accounts_by_phone
from accounts.services.notices import account_is_affected, notices_for_account
from notices.copy import compose, describe_time, notice_language

#: Recently closed notices still answer STATUS ("service was restored at ...").
RECENTLY_CLOSED = timedelta(hours=24)

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
    district: District,
) -> str | None:
    """The latest active or upcoming notice for ``phone``'s service address, as SMS text.

    ``None`` when the number matches no account or no current notice affects it
    (the SMS channel then lets the assistant answer). Arguments as for
    :func:`latest_status_for`.
    """
    accounts = find_accounts_by_phone(session=session, phone=phone)
    if not accounts:
        return None
    return _current_status(session, accounts, now, district, notice_language(language))


def latest_status_for(
    *,
    session: Session,
    phone: str,
    now: datetime,
    language: str,
    district: District,
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
        district: Names, phone and website for the text.
    """
    lang = notice_language(language)
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
