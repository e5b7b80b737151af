"""What a notice message says, in English or Spanish, by SMS or email."""

from __future__ import annotations

from datetime import datetime

from accounts.clock import as_utc
from accounts.district import District
from accounts.models import Notice

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


def notice_language(value: str | None) -> str:
    """The language a notice is written in for a customer: ``es`` for Spanish, else ``en``."""
    return "es" if value and value.lower().startswith("es") else "en"


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
    """``(subject, body)`` of one notice message (subject is empty for SMS).

    Args:
        notice: The notice, in its new state.
        event: ``created``, ``updated`` or ``closed`` (a closure says service is back).
        language: The customer's language (anything not Spanish is English).
        channel: ``sms`` or ``email``.
        district: Short name, phone, website and email signature for the text.
        now: The current instant (an ETA today reads "today at ...").
    """
    lang = notice_language(language)
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
