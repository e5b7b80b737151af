"""The texts of automatic email answers, in English and Spanish.

Facts come from the database (notices, balances) and the district file
(office, rebates, payment options); nothing here is hard-coded per district.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from accounts.business_calendar import BusinessCalendar
from accounts.district import District
from accounts.models import Account, Notice
from accounts.services.balance import BalanceSummary

# "Is the office open Friday?": holidays this close are worth naming in the answer.
CLOSURE_HORIZON_DAYS = 14


def _es(language: str) -> bool:
    return language.lower().startswith("es")


def _when(at: datetime | None, district: District, language: str) -> str:
    if at is None:
        return "sin hora estimada" if _es(language) else "no estimate yet"
    local = at.astimezone(district.tz)
    hour = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%m/%d} {hour}"


def greeting(name: str, language: str) -> str:
    """First line of every answer."""
    first = name.split()[0] if name.strip() else ""
    if _es(language):
        return f"Hola {first}," if first else "Hola,"
    return f"Hello {first}," if first else "Hello,"


def notices_answer(
    notices: Sequence[Notice], *, district: District, language: str, address: str
) -> str:
    """Known outages, planned work and water-quality notices for an address."""
    lines = []
    for notice in notices:
        text = notice.text_es if _es(language) else notice.text_en
        if notice.kind == "boil_water" or notice.estimated_restoration_at is None:
            lines.append(f"- {text}")
        else:
            label = "Restablecimiento estimado" if _es(language) else "Estimated restoration"
            when = _when(notice.estimated_restoration_at, district, language)
            lines.append(f"- {text} ({label}: {when})")
    where = f" ({address})" if address else ""
    if _es(language):
        return f"Estos son los avisos actuales para su zona{where}:\n" + "\n".join(lines)
    return f"These are the current notices for your area{where}:\n" + "\n".join(lines)


def report_taken_answer(*, reference: str, kind: str, language: str) -> str:
    """No known notice: a report was opened."""
    if _es(language):
        subject = "la calidad del agua" if kind == "water_quality" else "el servicio de agua"
        return (
            f"No tenemos un aviso conocido sobre {subject} en su dirección. Abrimos un reporte "
            f"({reference}) y nuestro personal lo revisará. Si el agua brota en la calle o hay "
            "un desbordamiento de aguas negras, llámenos de inmediato."
        )
    subject = "water quality" if kind == "water_quality" else "a water outage"
    return (
        f"We have no known notice about {subject} at your address. We opened a report "
        f"({reference}) and our crew will look into it. If water is gushing in the street or "
        "sewage is overflowing, please call us right away."
    )


def office_answer(
    district: District, calendar: BusinessCalendar, *, now: datetime, language: str
) -> str:
    """Office hours, address, phone, whether it is open now, and closures this fortnight."""
    directions = district.office_directions.text(language)
    today = today_in(district, now)
    closures = [
        (day, name)
        for offset in range(CLOSURE_HORIZON_DAYS)
        if (name := calendar.holiday_name(day := today + timedelta(days=offset), language))
    ]
    is_open = calendar.is_open(now)
    opening = calendar.describe_next_opening(now, language, within_hours=0)
    if _es(language):
        status = "Estamos abiertos ahora." if is_open else f"Abrimos de nuevo {opening}."
        closed = "".join(f"\nCerrado el {d.month}/{d.day} ({name})." for d, name in closures)
        return (
            f"{directions}\nHorario: de lunes a viernes, de 8 a. m. a 5 p. m. (cerrado los "
            f"días festivos del distrito). {status}{closed}\n"
            f"Teléfono: {district.contact.phone_display}."
        )
    status = "We are open now." if is_open else f"We are next open {opening}."
    closed = "".join(f"\nClosed {d:%A}, {d.month}/{d.day} ({name})." for d, name in closures)
    return (
        f"{directions}\nHours: Monday to Friday, 8 AM to 5 PM (closed on district holidays). "
        f"{status}{closed}\nPhone: {district.contact.phone_display}."
    )


def rebates_answer(district: District, *, language: str) -> str:
    """The conservation rebates on offer."""
    lines = [
        f"- {rebate.name.text(language)}: {rebate.description.text(language)}"
        for rebate in district.rebates
    ]
    head = (
        "Estos son nuestros reembolsos de conservación:"
        if _es(language)
        else "These are our conservation rebates:"
    )
    tail = (
        f"Para solicitar, visite {district.contact.website} o llame al "
        f"{district.contact.phone_display}."
        if _es(language)
        else f"To apply, visit {district.contact.website} or call {district.contact.phone_display}."
    )
    return "\n".join([head, *lines, "", tail])


def _money(value: object) -> str:
    return f"${value}"


def balance_answer(
    summary: BalanceSummary, *, account: Account, district: District, language: str
) -> str:
    """Tier-1 balance facts (only for a sender on file for this account)."""
    masked = f"…{account.number[-4:]}"
    due = summary.due_date.strftime("%m/%d/%Y") if summary.due_date else "—"
    parts: list[str] = []
    if _es(language):
        parts.append(f"Cuenta {masked}: saldo a pagar {_money(summary.amount_due)}, vence {due}.")
        if summary.past_due > 0:
            parts.append(f"Saldo vencido: {_money(summary.past_due)}.")
        if summary.last_payment_amount is not None and summary.last_payment_at is not None:
            parts.append(
                f"Último pago recibido: {_money(summary.last_payment_amount)} el "
                f"{summary.last_payment_at.astimezone(district.tz):%m/%d/%Y}."
            )
        if summary.autopay:
            parts.append("Tiene AutoPay: el saldo se cobrará en la fecha de vencimiento.")
    else:
        parts.append(f"Account {masked}: amount due {_money(summary.amount_due)}, due {due}.")
        if summary.past_due > 0:
            parts.append(f"Past due: {_money(summary.past_due)}.")
        if summary.last_payment_amount is not None and summary.last_payment_at is not None:
            parts.append(
                f"Last payment received: {_money(summary.last_payment_amount)} on "
                f"{summary.last_payment_at.astimezone(district.tz):%m/%d/%Y}."
            )
        if summary.autopay:
            parts.append("You are on AutoPay: the balance will be drafted on the due date.")
    return " ".join(parts)


def payment_answer(*, account: Account | None, district: District, language: str) -> str:
    """How to pay; the secure link when the account is known. Never asks for card numbers."""
    phone = district.payments.pay_by_phone.number_display
    if account is not None:
        link = district.payments.portal_link(account.number)
        if _es(language):
            return (
                f"Puede pagar en línea de forma segura aquí: {link}\n"
                f"O por teléfono a cualquier hora: {phone}. Por favor no envíe números de "
                "tarjeta por correo electrónico."
            )
        return (
            f"You can pay securely online here: {link}\n"
            f"Or by phone at any hour: {phone}. Please do not send card numbers by email."
        )
    if _es(language):
        return (
            f"Puede pagar por teléfono a cualquier hora: {phone}, o en nuestra oficina. "
            "Por favor no envíe números de tarjeta por correo electrónico."
        )
    return (
        f"You can pay by phone at any hour: {phone}, or at our office. "
        "Please do not send card numbers by email."
    )


def restoration_answer(
    summary: BalanceSummary, *, account: Account, district: District, language: str
) -> str:
    """What it takes to get locked-off service back."""
    if not summary.locked_off:
        if _es(language):
            return (
                "Su servicio no está suspendido por falta de pago. Si no tiene agua, puede "
                "haber una interrupción en su zona; responda con su dirección."
            )
        return (
            "Your service is not locked off for non-payment. If you have no water there may "
            "be an outage in your area; reply with your service address."
        )
    text = district.reconnection.text.text(language)
    amount = _money(summary.amount_to_restore)
    if _es(language):
        head = f"Para restablecer el servicio de la cuenta …{account.number[-4:]} debe {amount}."
    else:
        head = f"To restore service on account …{account.number[-4:]} the amount due is {amount}."
    pay = payment_answer(account=account, district=district, language=language)
    return f"{head} {text}\n\n{pay}"


def verification_needed_answer(*, district: District, language: str) -> str:
    """Sender not on file: no account data, only how to get it safely."""
    phone = district.contact.phone_display
    pay_phone = district.payments.pay_by_phone.number_display
    if _es(language):
        return (
            "Para proteger su información, solo compartimos datos de la cuenta por correo con "
            "la dirección de correo registrada en la cuenta. Llámenos al "
            f"{phone} y con gusto le ayudamos, o escríbanos desde el correo registrado. "
            f"Para pagar, use nuestra línea automática a cualquier hora: {pay_phone}."
        )
    return (
        "To protect your information we only share account details by email with the address "
        f"on file for the account. Please call us at {phone} and we will gladly help, or "
        "write from the email address on file. To pay, use our automated line at any hour: "
        f"{pay_phone}."
    )


def which_account_answer(*, language: str) -> str:
    """Several accounts on file: ask which one, without data."""
    if _es(language):
        return "Tiene varias cuentas registradas. Responda con el número de cuenta, por favor."
    return "You have several accounts with us. Please reply with the account number."


def ticket_answer(
    *, ticket_id: int, due: str, language: str, emergency: bool, district: District
) -> str:
    """Acknowledgement of a ticket for a person."""
    if emergency:
        instructions = district.after_hours_emergency.instructions.text(language)
        if _es(language):
            return (
                f"Recibimos su reporte de emergencia (caso #{ticket_id}) y avisamos al personal "
                f"de guardia. {instructions}"
            )
        return (
            f"We received your emergency report (case #{ticket_id}) and alerted our on-call "
            f"staff. {instructions}"
        )
    if _es(language):
        return (
            f"Recibimos su mensaje y un representante lo atenderá (caso #{ticket_id}). "
            f"Le responderemos {due.rstrip('.')}."
        )
    return (
        f"We received your message and a representative will handle it (case #{ticket_id}). "
        f"You will hear from us {due}."
    )


def closing(language: str) -> str:
    """Last line before the signature."""
    return "Gracias." if _es(language) else "Thank you."


def today_in(district: District, now: datetime) -> date:
    """The district-local date."""
    return now.astimezone(district.tz).date()
