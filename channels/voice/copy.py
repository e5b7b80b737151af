"""Every fixed phrase of the phone line, in English and Spanish.

The assistant's own answers come from Rasa; these are what the gateway says by
itself: the greeting and keypad menus, re-prompts, payment outcomes, goodbyes,
and the whisper a representative hears before a transfer.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def text(language: str | None, key: str, **values: object) -> str:
    """A fixed phrase of the phone line in the caller's language."""
    table = _TEXT.get((language or "en")[:2], _TEXT["en"])
    return table[key].format(**values)


#: Said in Spanish, with a Spanish voice, right after the English welcome.
SPANISH_OFFER = "Para español, oprima 2."
