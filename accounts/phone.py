"""Phone numbers in any common format, normalised to E.164."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of ``raw`` (``"(530) 555-0101"`` → ``"+15305550101"``), else None.

    Only the number's shape is checked (``is_possible``): fictional 555-01xx
    numbers used by demos and tests are not "valid" to libphonenumber.
    """
    if not raw:
        return None
    text = raw.strip()
    if len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
