"""Which language a short customer text is in: Spanish or not (no model, no download).

A first text from an unknown sender has no preference on file, so the gateway
looks at the words: common Spanish function words and the water district's
vocabulary ("agua", "factura", "saldo"), and letters English does not use
(ñ, accented vowels, ¿ ¡). A text counts as Spanish only with clear evidence;
anything short or mixed stays undecided and the conversation keeps its
default. A later switch is the dialogue's business (``change_language``).
"""

from __future__ import annotations

import re
import unicodedata

from channels.base import Language

_WORD = re.compile(r"[a-zñáéíóúü]+")
_SPANISH_MARKS = frozenset("ñáéíóú¿¡")

#: Frequent Spanish words that are not also common English words.
_SPANISH_WORDS = """
el la los las un una unos unas del al de que por para con sin mi mis su sus tu
es esta este esto estoy estamos son hay tengo tiene tienen quiero quisiera puedo
puede necesito como cuando donde cual cuanto cuanta porque pero tambien muy mas
hola buenos buenas dias tardes noches gracias favor ayuda si no ya hoy manana
agua factura saldo pago pagar cuenta servicio corte fuga calle casa luz nombre
numero direccion debo cuesta presion drenaje tuberia medidor cobro recibo
iniciar cancelar hablar persona representante espanol ingles
"""
#: Frequent English words (so "no water on my street" is not counted as Spanish).
_ENGLISH_WORDS = """
the a an is are was my your our i we you it this that what when where how why
have has do does did can could would will please thanks thank hi hello to of in
on for with at from and or but not bill balance pay payment water outage leak
service account address street need want help today there here no yes
"""
_SPANISH = frozenset(_SPANISH_WORDS.split())
_ENGLISH = frozenset(_ENGLISH_WORDS.split())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower().replace("ñ", "\x00"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("\x00", "ñ")


def detect_language(text: str) -> Language | None:
    """``"es"`` when ``text`` is clearly Spanish, ``"en"`` when clearly English, else ``None``.

    Args:
        text: A customer's message (SMS, email first lines, speech).

    Returns:
        The language, or ``None`` for too little evidence (one word, digits,
        words both languages share).
    """
    lowered = text.lower()
    words = _WORD.findall(_fold(lowered))
    if not words:
        return None
    spanish = sum(1 for w in words if w in _SPANISH and w not in _ENGLISH)
    english = sum(1 for w in words if w in _ENGLISH and w not in _SPANISH)
    if any(ch in _SPANISH_MARKS for ch in lowered):
        spanish += 1
    if spanish >= 2 and spanish > english:
        return "es"
    if english >= 2 and english > spanish:
        return "en"
    return None
