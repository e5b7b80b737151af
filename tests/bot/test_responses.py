"""Every text the assistant can say exists in English and in Spanish.

Two places hold texts: the domain's responses (bot/domain/*.yml, conditional
variations on the ``language`` slot) and the action server's message catalog
(actions/messages.yml). A response or message without both languages fails.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_DIR = ROOT / "bot" / "domain"
CATALOG = ROOT / "actions" / "messages.yml"


def _responses() -> dict[str, list[dict[str, Any]]]:
    responses: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        responses.update(data.get("responses") or {})
    return responses


def _catalog() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    messages: dict[str, dict[str, str]] = data["messages"]
    return messages


def _language_and_context(variation: dict[str, Any]) -> tuple[str, frozenset[tuple[str, str]]]:
    """("en"|"es", the variation's other conditions)."""
    language = "en"
    context = set()
    for condition in variation.get("condition") or []:
        assert condition.get("type") == "slot", f"unexpected condition {condition}"
        if condition["name"] == "language":
            language = condition["value"]
        else:
            context.add((condition["name"], str(condition["value"])))
    return language, frozenset(context)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


RESPONSES = _responses()
CATALOG_MESSAGES = _catalog()


def test_there_are_responses_and_messages() -> None:
    assert len(RESPONSES) >= 8
    assert len(CATALOG_MESSAGES) >= 60


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_has_english_and_spanish(name: str) -> None:
    by_context: dict[frozenset[tuple[str, str]], dict[str, list[str]]] = {}
    for variation in RESPONSES[name]:
        language, context = _language_and_context(variation)
        assert language in ("en", "es"), f"{name}: unknown language {language}"
        text = (variation.get("text") or "").strip()
        assert text or variation.get("custom"), f"{name}: empty variation"
        by_context.setdefault(context, {}).setdefault(language, []).append(text)
    for context, languages in by_context.items():
        where = f"{name} {sorted(context) or ''}".strip()
        assert languages.get("en"), f"{where}: no English variation"
        assert languages.get("es"), f"{where}: no Spanish variation"
        assert set(languages["en"]).isdisjoint(languages["es"]), f"{where}: Spanish = English"
        for english in languages["en"]:
            for spanish in languages["es"]:
                assert _placeholders(english) == _placeholders(spanish), where


@pytest.mark.parametrize("key", sorted(CATALOG_MESSAGES))
def test_every_action_message_has_english_and_spanish(key: str) -> None:
    entry = CATALOG_MESSAGES[key]
    assert set(entry) == {"en", "es"}, f"{key}: languages {sorted(entry)}"
    english, spanish = entry["en"].strip(), entry["es"].strip()
    assert english and spanish, f"{key}: empty text"
    assert english != spanish, f"{key}: the Spanish text is the English one"
    assert _placeholders(english) == _placeholders(spanish), f"{key}: placeholders differ"


def _keys_used_by_actions() -> set[str]:
    """Message keys the action code names literally, plus those it builds from slots/intents."""
    used: set[str] = set()
    pattern = re.compile(r"messages\.(?:text|say)\(\s*\w+,\s*\"([a-z0-9_]+)\"")
    plain = re.compile(r"(?:key|question_key)\s*=\s*\"([a-z0-9_]+)\"|return \"([a-z0-9_]+)\"")
    for path in (ROOT / "actions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        used.update(pattern.findall(source))
        used.update(a or b for a, b in plain.findall(source))
    requests = yaml.safe_load((DOMAIN_DIR / "forms.yml").read_text(encoding="utf-8"))
    asked = requests["forms"]["request_form"]["required_slots"]
    special = {"verification_factor", "account_number", "address", "issue_details",
               "arrangement_choice"}
    used.update(f"ask_{slot}" for slot in asked if slot not in special)
    used.update(f"ask_issue_details_{i}" for i in ("billing_dispute", "leak_adjustment",
                                                    "complaint"))
    used.update(f"ask_address_{i}" for i in ("outage", "water_quality", "report_emergency"))
    used.update(f"{i}_{what}" for i in ("outage", "water_quality") for what in ("known",
                                                                                "reported"))
    used.update(f"{key}_voice" for key in ("autopay_cancel", "autopay_not_enrolled"))
    # Action names (``return "action_..."`` in name()) are not messages.
    return {key for key in used if key and not key.startswith(("action_", "validate_"))}


def test_every_message_the_actions_use_is_in_the_catalog() -> None:
    missing = sorted(_keys_used_by_actions() - set(CATALOG_MESSAGES))
    assert not missing, f"messages used by actions/ but not in {CATALOG.name}: {missing}"
