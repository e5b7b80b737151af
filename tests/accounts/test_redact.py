from __future__ import annotations

import logging

import pytest

from accounts.redact import (
    CARD_PLACEHOLDER,
    find_cards,
    luhn_ok,
    mask_address,
    redact_cards,
    redact_pii,
)


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize("text", ["my card is 4111 1111 1111 1111 exp 12/28",
                                  "4111-1111-1111-1111", "amex 378282246310005 thanks"])
def test_card_numbers_are_redacted(text: str) -> None:
    redacted = redact_cards(text)
    assert CARD_PLACEHOLDER in redacted
    assert not find_cards(redacted)


def test_account_numbers_and_phones_are_not_cards() -> None:
    text = "account 1000417 zip 95616 phone 5305550101"
    assert redact_cards(text) == text


def test_pii_is_removed_for_logs() -> None:
    line = redact_pii(
        "dana.whitfield@example.com from +15305550101 acct 1000417 card 4111111111111111"
    )
    assert "example.com" not in line and "5550101" not in line and "1000417" not in line
    assert "4111" not in line
    assert mask_address("+15305550101").endswith("01") and "555" not in mask_address("+15305550101")
    logging.getLogger("x").info(line)
