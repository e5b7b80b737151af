"""Buttons on SMS become numbered lines, and a digit reply selects one."""

from __future__ import annotations

from channels.base import Button
from channels.sms_buttons import render_buttons, resolve_choice


def test_buttons_become_numbered_lines_and_digits_select_them() -> None:
    buttons = [Button("Pay now", "/make_payment"), Button("Something else", "/help")]
    text = render_buttons("What next?", buttons)
    assert text.splitlines() == [
        "What next?",
        "1) Pay now",
        "2) Something else",
        "Reply with a number.",
    ]
    assert "Responda con un número." in render_buttons("¿Qué sigue?", buttons, language="es")
    assert resolve_choice("2", buttons) == "/help"
    assert resolve_choice(" 1. ", buttons) == "/make_payment"
    assert resolve_choice("#1", buttons) == "/make_payment"
    assert resolve_choice("3", buttons) is None
    assert resolve_choice("0", buttons) is None
    assert resolve_choice("1 more thing", buttons) is None
    assert resolve_choice("1", []) is None
