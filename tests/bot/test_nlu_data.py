"""Checks on the NLU training data and the held-out set (plain YAML, no Rasa import).

The evaluation itself (accuracy on the held-out set) needs Rasa and runs as
``.venv-rasa/bin/python bot/nlu_eval.py``; these tests guard the data it relies on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "bot" / "data" / "nlu"
HELDOUT = ROOT / "tests" / "bot" / "nlu_heldout.yml"
NLU_DOMAIN = ROOT / "bot" / "domain" / "nlu.yml"
CONFIG = ROOT / "config.yml"
CONTRACT = ROOT / "docs" / "contract" / "intents.yml"
CONVERSATION_CONTROL = {
    "greet",
    "goodbye",
    "thank_you",
    "affirm",
    "deny",
    "help",
    "bot_challenge",
    "human_agent",
    "change_language",
}
ENTITY_RE = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<entity>[^)]+)\)")
# Words that mark an utterance as Spanish; none is also an English word in this data.
SPANISH_WORDS = frozenset(
    [
        "que",
        "qué",
        "el",
        "los",
        "las",
        "mi",
        "mis",
        "por",
        "para",
        "con",
        "está",
        "esta",
        "es",
        "quiero",
        "tengo",
        "tiene",
        "agua",
        "cuenta",
        "hay",
        "cuánto",
        "cuanto",
        "cómo",
        "como",
        "pagar",
        "pago",
        "de",
        "del",
        "una",
        "uno",
        "favor",
        "gracias",
        "hola",
        "buenos",
        "buenas",
        "señor",
        "señorita",
        "sí",
        "no_es",
        "ya",
        "me",
        "se",
        "le",
        "lo",
        "su",
        "usted",
        "puedo",
        "puede",
        "necesito",
        "factura",
        "recibo",
        "luz",
        "basura",
        "dónde",
        "donde",
        "cuándo",
        "cuando",
        "hablar",
        "persona",
        "más",
        "mas",
        "casa",
        "calle",
        "ahorita",
        "reembolso",
        "queja",
        "fuga",
        "saldo",
        "debo",
        "adiós",
        "adios",
        "chao",
        "hasta",
    ]
)


def _contract() -> dict[str, Any]:
    contract: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    return contract


def _plain(example: str) -> tuple[str, list[str]]:
    entities = [m.group("entity").split(":")[0].strip() for m in ENTITY_RE.finditer(example)]
    return ENTITY_RE.sub(lambda m: m.group("text"), example), entities


def _examples(path: Path) -> list[tuple[str, str, list[str]]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for block in doc.get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block["examples"]).splitlines():
            line = line.strip()
            if line.startswith("- "):
                text, entities = _plain(line[2:].strip())
                out.append((block["intent"], text, entities))
    return out


def _training() -> list[tuple[str, str, list[str]]]:
    files = sorted(TRAIN_DIR.glob("*.yml"))
    assert files, f"no training data in {TRAIN_DIR}"
    return [ex for f in files for ex in _examples(f)]


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    key = " ".join(re.sub(r"[^\w\s]", " ", text).split())
    # Punctuation-only messages ("?", "...") stay distinct from one another.
    return key or text.strip()


def _is_spanish(text: str) -> bool:
    if re.search(r"[ñáéíóú¿¡]", text.lower()):
        return True
    return any(w in SPANISH_WORDS for w in re.findall(r"\w+", text.lower()))


def _patterns() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for f in sorted(TRAIN_DIR.glob("*.yml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            if "regex" in block:
                for line in str(block["examples"]).splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        out[block["regex"]].append(line[2:])
    return out


def _matches(name: str, text: str) -> list[str]:
    return [m.group(0) for p in _patterns()[name] for m in re.finditer(p, text, re.IGNORECASE)]


def test_every_contract_intent_has_training_data() -> None:
    intents = set(_contract()["intents"])
    counts = Counter(intent for intent, _, _ in _training())
    missing, extra = sorted(intents - set(counts)), sorted(set(counts) - intents)
    assert not missing and not extra, f"missing: {missing}, not in contract: {extra}"
    for intent in intents - CONVERSATION_CONTROL:
        assert counts[intent] >= 40, f"{intent} has only {counts[intent]} examples"
    for intent in CONVERSATION_CONTROL:
        assert counts[intent] >= 25, f"{intent} has only {counts[intent]} examples"
    assert counts["out_of_scope"] >= 100


def test_nlu_domain_lists_exactly_the_contract() -> None:
    contract = _contract()
    domain = yaml.safe_load(NLU_DOMAIN.read_text(encoding="utf-8"))
    assert set(domain) == {"version", "intents", "entities"}
    assert set(domain["intents"]) == set(contract["intents"])
    assert set(domain["entities"]) == set(contract["entities"])


def test_entity_names_are_contract_names() -> None:
    entities = set(_contract()["entities"])
    used = Counter(e for f in (_training(), _examples(HELDOUT)) for _, _, ents in f for e in ents)
    assert set(used) <= entities, f"unknown entities: {sorted(set(used) - entities)}"
    # Every contract entity is taught by at least a few annotated examples.
    train_used = Counter(e for _, _, ents in _training() for e in ents)
    for name in entities:
        assert train_used[name] >= 5, f"{name} annotated only {train_used[name]} times"


def test_no_example_is_in_two_intents() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for intent, text, _ in _training():
        key = _normalize(text)
        if key in seen and seen[key] != intent:
            clashes.append((text, seen[key], intent))
        seen.setdefault(key, intent)
    assert not clashes, clashes


def test_spanish_share_is_about_a_fifth() -> None:
    examples = _training()
    share = sum(_is_spanish(text) for _, text, _ in examples) / len(examples)
    assert 0.15 <= share <= 0.30, f"Spanish share {share:.2%}"
    # And Spanish is spread over the intents, not parked in a few.
    per_intent = defaultdict(list)
    for intent, text, _ in examples:
        per_intent[intent].append(_is_spanish(text))
    for intent, flags in per_intent.items():
        assert sum(flags) >= 5, f"{intent} has {sum(flags)} Spanish examples"


def test_heldout_covers_every_intent_with_twenty() -> None:
    counts = Counter(intent for intent, _, _ in _examples(HELDOUT))
    intents = set(_contract()["intents"])
    assert set(counts) == intents
    for intent in intents:
        assert counts[intent] >= 20, f"held-out {intent}: {counts[intent]}"
    assert counts["out_of_scope"] >= 30


def test_heldout_shares_no_utterance_with_training() -> None:
    train = {_normalize(text) for _, text, _ in _training()}
    shared = [text for _, text, _ in _examples(HELDOUT) if _normalize(text) in train]
    assert not shared, f"held-out utterances also in training: {shared}"


def test_heldout_is_outside_the_training_directory() -> None:
    assert TRAIN_DIR not in HELDOUT.parents
    assert ROOT / "bot" / "data" not in HELDOUT.parents


def test_heldout_has_every_style() -> None:
    texts = [text for _, text, _ in _examples(HELDOUT)]
    assert sum(_is_spanish(t) for t in texts) / len(texts) >= 0.12
    assert sum(bool(re.match(r"(um|uh)\b", t)) for t in texts) >= 30  # voice transcripts
    assert sum(len(t.split()) >= 10 and t[:1].isupper() for t in texts) >= 30  # e-mail sentences


@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        ("my account is 1000417", "account_number", ["1000417"]),
        ("acct 1001560 zip 95618", "account_number", ["1001560"]),
        ("acct 1001560 zip 95618", "zip_code", ["95618"]),
        ("call me at 530-555-0101", "account_number", []),
        ("call me at 530-555-0101", "phone_number", ["530-555-0101"]),
        ("call (530) 555-0104 please", "phone_number", ["(530) 555-0104"]),
        ("call (530) 555-0104 please", "account_number", []),
        ("my cell 5305550102", "phone_number", ["5305550102"]),
        ("my cell 5305550102", "account_number", []),
        ("+1 530 555 0103", "phone_number", ["+1 530 555 0103"]),
        ("zip is 95616", "zip_code", ["95616"]),
        ("account 1000417", "zip_code", []),
        ("i paid $79.55 yesterday", "amount", ["$79.55"]),
        ("bill is 412.88", "amount", ["412.88"]),
        ("mail dana.whitfield@example.com", "email", ["dana.whitfield@example.com"]),
        ("the due date for account 1000417.", "account_number", ["1000417"]),
        ("My ZIP code is 95618.", "zip_code", ["95618"]),
        ("i paid 79.55.", "account_number", []),
        ("water at Oak and 5th", "date", []),
        ("i'll pay on friday", "date", ["friday"]),
        ("stop service on dec 15, 2026 please", "date", ["dec 15, 2026"]),
        ("moving out 12/31", "date", ["12/31"]),
        ("me mudo el 30 de noviembre", "date", ["30 de noviembre"]),
        ("can i pay the 20th of december", "date", ["the 20th of december"]),
        ("stop it the day after tomorrow", "date", ["the day after tomorrow"]),
        ("i can pay 100 dollars", "amount", ["100 dollars"]),
    ],
)
def test_regexes_keep_account_phone_zip_apart(text: str, entity: str, expected: list[str]) -> None:
    assert _matches(entity, text) == expected


def test_config_has_fallback_and_no_downloaded_weights() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    assert "FallbackClassifier" in names
    assert "RegexEntityExtractor" in names
    assert not {"LanguageModelFeaturizer", "SpacyNLP", "SpacyFeaturizer", "MitieNLP"} & set(names)
    assert config["language"] == "en"


def test_blind_set_shares_nothing_with_training_or_heldout() -> None:
    blind_path = ROOT / "tests" / "bot" / "nlu_blind.yml"
    train = {_normalize(text) for _, text, _ in _training()}
    held = {_normalize(text) for _, text, _ in _examples(HELDOUT)}
    blind = _examples(blind_path)
    assert {intent for intent, _, _ in blind} == set(_contract()["intents"])
    shared = [text for _, text, _ in blind if _normalize(text) in train | held]
    assert not shared, shared


# -- the trained model, through the Rasa environment (subprocesses; no Rasa import here) --

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL_DIR = ROOT / "var" / "models-nlu"


def _inputs_mtime() -> float:
    files = [CONFIG, NLU_DOMAIN, *TRAIN_DIR.glob("*.yml")]
    return max(f.stat().st_mtime for f in files)


@pytest.fixture(scope="session")
def nlu_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on the current data: var/models-nlu if up to date, else trained now."""
    if not RASA_BIN.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(".venv-rasa is missing")
        pytest.skip(".venv-rasa is missing")
    archives = sorted(MODEL_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if archives and archives[-1].stat().st_mtime > _inputs_mtime():
        return archives[-1]
    out = tmp_path_factory.mktemp("nlu-model")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(
        [str(RASA_BIN), "train", "nlu", "--config", str(CONFIG), "--domain", str(NLU_DOMAIN),
         "--nlu", str(TRAIN_DIR), "--out", str(out), "--fixed-model-name", "nlu"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    return out / "nlu.tar.gz"


@pytest.mark.rasa
def test_heldout_evaluation_meets_the_targets(nlu_model: Path, tmp_path: Path) -> None:
    report_json = tmp_path / "report.json"
    proc = subprocess.run(
        [str(RASA_PYTHON), str(ROOT / "bot" / "nlu_eval.py"), "--model", str(nlu_model),
         "--report", str(tmp_path / "report.md"), "--json", str(report_json)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert proc.returncode == 0, report["failures"]
    assert report["accuracy"] >= 0.92
    assert all(m["recall"] >= 0.80 for m in report["per_intent"].values() if m["support"])
    assert report["per_intent"]["out_of_scope"]["recall"] >= 0.85
    assert "| check_balance |" in (tmp_path / "report.md").read_text(encoding="utf-8")


@pytest.mark.rasa
def test_parse_cli_answers_every_line(nlu_model: Path) -> None:
    lines = [
        json.dumps({"text": "hw much do i owe acct 1000417 zip 95616"}),
        "",
        "not json",
        json.dumps({"text": 5}),
        json.dumps({"text": "my pg&e bill is too high"}),
        json.dumps({"text": "call me at (530) 555-0104 about the water main break on Oak Street"}),
        json.dumps({"text": "¿cuánto debo?"}),
    ]
    proc = subprocess.run(
        [str(RASA_PYTHON), str(ROOT / "bot" / "nlu_parse.py"), "--model", str(nlu_model)],
        input="\n".join(lines) + "\n", cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    assert [("error" in o) for o in out] == [False, True, True, True, False, False, False]
    intents = set(_contract()["intents"])
    for o in out:
        if "error" not in o:
            assert o["intent"] in intents
            assert set(o) >= {"text", "intent", "confidence", "entities"}
    first = out[0]
    assert first["intent"] == "check_balance"
    assert {(e["entity"], e["value"]) for e in first["entities"]} == {
        ("account_number", "1000417"),
        ("zip_code", "95616"),
    }
    assert out[4]["intent"] == "out_of_scope"
    assert ("phone_number", "(530) 555-0104") in {
        (e["entity"], e["value"]) for e in out[5]["entities"]
    }
    assert not any(e["entity"] == "account_number" for e in out[5]["entities"])
    assert out[6]["intent"] == "check_balance"
