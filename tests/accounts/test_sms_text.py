"""GSM-7 detection, segment counting and splitting."""

from __future__ import annotations

import pytest

from accounts.sms_text import (
    TWILIO_MAX_BODY,
    encoding_name,
    is_gsm7,
    segment_count,
    split_message,
)


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("Your balance is $84.20.", True),
        ("Price in euros: 5€ [approx]", True),  # extension table
        ("Su saldo es $84.20 ¿algo mas? ñ ü", True),  # ¿ ñ ü are GSM-7
        ("Está bien", False),  # á is not GSM-7
        ("“curly quotes”", False),
        ("water 💧", False),
    ],
)
def test_gsm7_detection(text: str, gsm: bool) -> None:
    assert is_gsm7(text) is gsm
    assert encoding_name(text) == ("GSM-7" if gsm else "UCS-2")


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("{" * 80, 1),  # 160 septets
        ("{" * 81, 2),
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("💧" * 35, 1),  # surrogate pairs: 70 code units
        ("💧" * 36, 2),
    ],
)
def test_segment_count(text: str, segments: int) -> None:
    assert segment_count(text) == segments


def test_one_accent_halves_the_segment() -> None:
    plain = "a" * 150
    assert segment_count(plain) == 1
    assert segment_count(plain + "é") == 1  # é is in GSM-7
    assert segment_count(plain + "í") == 3  # í is not: 151 UCS-2 units


def test_short_text_is_one_body() -> None:
    assert split_message("  Hello there.  ") == ["Hello there."]
    assert split_message("   ") == []


def test_split_prefers_sentences_and_keeps_everything() -> None:
    sentence = "Your water is back on in the North zone after the main repair. "
    text = sentence * 12
    bodies = split_message(text)
    assert len(bodies) > 1
    assert all(len(b) <= 320 for b in bodies)
    assert all(b.endswith(".") for b in bodies)  # cut at sentence ends
    assert " ".join(bodies).split() == text.split()


def test_split_prefers_line_breaks() -> None:
    lines = [f"{n}) Option number {n} with some words to make it longer" for n in range(1, 12)]
    bodies = split_message("\n".join(lines))
    assert all(len(b) <= 320 for b in bodies)
    rejoined = "\n".join(bodies).split("\n")
    assert rejoined == lines  # no line was cut in half


def test_split_hard_cuts_an_unbreakable_word() -> None:
    url = "https://pay.example.com/" + "x" * 700
    bodies = split_message(f"Pay here: {url}")
    assert all(len(b) <= 320 for b in bodies)
    assert "".join(bodies).replace(" ", "") == f"Payhere:{url}"


def test_never_over_twilio_cap_whatever_the_target() -> None:
    bodies = split_message("word " * 1000, target=5000)
    assert bodies and all(len(b) <= TWILIO_MAX_BODY for b in bodies)
