from __future__ import annotations

import pytest

from accounts.phone import normalize_phone


@pytest.mark.parametrize("raw", ["+15305550101", "(530) 555-0101", "530.555.0101", "530 555 0101",
                                 "1-530-555-0101", "15305550101", " +1 (530) 555-0101 "])
def test_common_formats_normalise(raw: str) -> None:
    assert normalize_phone(raw) == "+15305550101"


@pytest.mark.parametrize("raw", [None, "", "hello", "123", "+1" + "9" * 40, "555-01"])
def test_garbage_is_not_a_phone(raw: str | None) -> None:
    assert normalize_phone(raw) is None
