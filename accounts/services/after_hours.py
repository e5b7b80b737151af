"""After-hours wording shared by every channel: when will a person follow up?

SMS, email and voicemail all promise the same thing after hours ("a
representative will contact you by 9 AM Monday"), computed from the district's
business calendar (holidays and daylight-saving changes included) so the
promise matches the ticket's due time in the CSR queue.
"""

from __future__ import annotations

from datetime import datetime

from accounts.business_calendar import BusinessCalendar

__all__ = ["after_hours_message", "follow_up_message", "is_after_hours"]

_CLOSED = {
    "en": "Our office is closed right now (open {hours}).",
    "es": "Nuestra oficina está cerrada en este momento (horario: {hours}).",
}
_HOLIDAY = {
    "en": "Our office is closed today for {holiday}.",
    "es": "Nuestra oficina está cerrada hoy por {holiday}.",
}
_PROMISE = {
    "en": "A representative will contact you {when}.",
    "es": "Un representante se comunicará con usted {when}.",
}
_EMERGENCY = {
    "en": "For an emergency such as a water main break or sewer backup, call {phone} any time.",
    "es": (
        "Para una emergencia, como una rotura de tubería principal o un retroceso de aguas "
        "negras, llame al {phone} a cualquier hora."
    ),
}


def _lang(language: str | None) -> str:
    return "es" if language and language.lower().startswith("es") else "en"


def is_after_hours(calendar: BusinessCalendar, now: datetime) -> bool:
    """Whether the office is closed at ``now`` (nights, weekends, holidays)."""
    return not calendar.is_open(now)


def follow_up_message(calendar: BusinessCalendar, now: datetime, language: str = "en") -> str:
    """ "A representative will contact you by ..." for any hour (open or closed)."""
    lang = _lang(language)
    return _PROMISE[lang].format(when=calendar.describe_next_opening(now, lang))


def after_hours_message(
    calendar: BusinessCalendar, now: datetime, language: str = "en", *, emergency: bool = True
) -> str:
    """What to tell a customer whose request needs a person, given the hour.

    In office hours this is only the follow-up promise; after hours it says the
    office is closed (naming the holiday when there is one), when a person will
    contact them, and, with ``emergency``, how to reach on-call staff.

    Args:
        calendar: The district's business calendar.
        now: The current instant (aware).
        language: ``en`` or ``es``.
        emergency: Add the 24/7 emergency line after hours.

    Returns:
        E.g. "Our office is closed right now (open Monday to Friday, 8 AM to 5 PM).
        A representative will contact you by 9 AM Monday. For an emergency ..."
    """
    lang = _lang(language)
    promise = follow_up_message(calendar, now, lang)
    if calendar.is_open(now):
        return promise
    district = calendar.district
    local_day = now.astimezone(calendar.tz).date()
    holiday = calendar.holiday_name(local_day, lang)
    if holiday:
        closed = _HOLIDAY[lang].format(holiday=holiday)
    else:
        closed = _CLOSED[lang].format(hours=calendar.describe_office_hours(lang))
    parts = [closed, promise]
    if emergency:
        parts.append(_EMERGENCY[lang].format(phone=district.contact.phone_display))
    return " ".join(parts)
