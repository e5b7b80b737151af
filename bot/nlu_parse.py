"""Parse customer utterances with a trained Rasa 3.6 model: JSON lines in, JSON lines out.

Run with the Rasa environment (Python 3.10)::

    .venv-rasa/bin/python bot/nlu_parse.py --model models/<model>.tar.gz [--threshold 0.5]

Each input line is ``{"text": "..."}``; each output line is
``{"text", "intent", "confidence", "entities"}`` (plus ``fallback`` and, when the
model's guess was rejected, ``guess``). ``intent`` is always a name from
``docs/contract/intents.yml``: a low-confidence or ambiguous guess (Rasa's
``nlu_fallback``) and any name outside the contract are reported as
``out_of_scope``, because the assistant never acts on a guess. An empty or
invalid line yields ``{"line": n, "error": "..."}`` and parsing goes on.

The model is loaded once (``Agent.load``) and every message runs through the
same graph the Rasa server uses, so what this prints is what the bot acts on.
``bot/nlu_eval.py`` and ``bench/nlu_bench.py`` import :class:`NluParser`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, Optional

# Quiet TensorFlow and SQLAlchemy before rasa imports them; stdout carries only JSON.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

CONTRACT_INTENTS = (
    "greet", "goodbye", "thank_you", "affirm", "deny", "help", "bot_challenge",
    "human_agent", "change_language", "check_balance", "make_payment",
    "payment_arrangement", "autopay", "billing_dispute", "leak_adjustment",
    "service_restoration", "outage", "report_emergency", "water_quality",
    "start_service", "stop_service", "update_contact", "rebate", "office_info",
    "complaint", "out_of_scope",
)
CONTRACT_ENTITIES = (
    "account_number", "amount", "zip_code", "phone_number", "email", "address", "date",
)
OUT_OF_SCOPE = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
REGEX_EXTRACTOR = "RegexEntityExtractor"


def resolve_model(path: str) -> Path:
    """Return the model archive: ``path`` itself, or the newest ``*.tar.gz`` in it.

    Args:
        path: a model archive or a directory of them.

    Returns:
        The archive to load.

    Raises:
        FileNotFoundError: no model there.
    """
    p = Path(path)
    if p.is_dir():
        archives = sorted(p.glob("*.tar.gz"), key=lambda f: f.stat().st_mtime)
        if not archives:
            raise FileNotFoundError(f"no *.tar.gz model in {p}")
        return archives[-1]
    if not p.exists():
        raise FileNotFoundError(f"model not found: {p}")
    return p


def merge_entities(entities: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Drop duplicate and overlapping entities, preferring the regex extractor.

    DIET and RegexEntityExtractor may both report the same span (an account
    number, an e-mail); the regex is exact, so its reading wins on overlap.
    Entities outside the contract are dropped.

    Args:
        entities: Rasa's entity dicts.

    Returns:
        Non-overlapping contract entities in text order, each with
        ``entity``, ``value``, ``start``, ``end``, ``extractor`` (and
        ``confidence`` when DIET gave one).
    """
    cands = [e for e in entities if e.get("entity") in CONTRACT_ENTITIES]
    # Regex first, then longer spans, then DIET's confidence.
    cands.sort(
        key=lambda e: (
            e.get("extractor") != REGEX_EXTRACTOR,
            -(int(e.get("end", 0)) - int(e.get("start", 0))),
            -float(e.get("confidence_entity") or 0.0),
        )
    )
    kept: List[Dict[str, Any]] = []
    for e in cands:
        start, end = int(e.get("start", 0)), int(e.get("end", 0))
        if any(start < k["end"] and k["start"] < end for k in kept):
            continue
        out: Dict[str, Any] = {
            "entity": e["entity"],
            "value": e.get("value"),
            "start": start,
            "end": end,
            "extractor": e.get("extractor"),
        }
        if e.get("confidence_entity") is not None:
            out["confidence"] = round(float(e["confidence_entity"]), 4)
        kept.append(out)
    kept.sort(key=lambda k: k["start"])
    return kept


def decide_intent(
    parse_data: Dict[str, Any],
    threshold: Optional[float] = None,
    ambiguity: Optional[float] = None,
) -> Dict[str, Any]:
    """Turn Rasa's parse result into the intent the assistant acts on.

    Without ``threshold`` the model's own FallbackClassifier decides (an
    ``nlu_fallback`` top intent means out_of_scope). With ``threshold`` the
    raw ranking is judged here: below ``threshold``, or within ``ambiguity`` of
    the runner-up, is out_of_scope.

    Args:
        parse_data: what ``Agent.parse_message`` returned.
        threshold: confidence needed to act on the top intent; None = the model's.
        ambiguity: minimum margin over the second intent (with ``threshold`` only).

    Returns:
        ``{"intent", "confidence", "fallback"}`` plus ``guess`` when rejected.
    """
    ranking = [
        r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT
    ]
    top = parse_data.get("intent") or {}
    if not ranking and top.get("name") and top.get("name") != FALLBACK_INTENT:
        ranking = [top]
    if not ranking:
        return {"intent": OUT_OF_SCOPE, "confidence": 0.0, "fallback": True}
    best = ranking[0]
    name, conf = str(best.get("name")), float(best.get("confidence") or 0.0)
    second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    if threshold is None:
        rejected = top.get("name") == FALLBACK_INTENT
    else:
        rejected = conf < threshold or (ambiguity is not None and conf - second < ambiguity)
    if name not in CONTRACT_INTENTS:
        rejected = True
    if rejected:
        decided: Dict[str, Any] = {
            "intent": OUT_OF_SCOPE,
            "confidence": round(conf, 4),
            "fallback": True,
        }
        if name != OUT_OF_SCOPE:
            decided["guess"] = name
        return decided
    return {"intent": name, "confidence": round(conf, 4), "fallback": False}


def quiet_rasa_logs() -> None:
    """Drop Rasa's per-message debug logs: they go to stderr and cost time per parse."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger("rasa").setLevel(logging.WARNING)


class NluParser:
    """A loaded Rasa model that parses one text at a time, in process.

    Args:
        model: a model archive, or a directory whose newest archive is used.
        threshold: see :func:`decide_intent`; None keeps the model's fallback.
        ambiguity: see :func:`decide_intent`.
    """

    def __init__(
        self,
        model: str,
        threshold: Optional[float] = None,
        ambiguity: Optional[float] = None,
    ) -> None:
        # Imported here so that --help and the pure helpers work without TensorFlow.
        from rasa.core.agent import Agent

        quiet_rasa_logs()

        self.model_path = resolve_model(model)
        self.threshold = threshold
        self.ambiguity = ambiguity
        self._loop = asyncio.new_event_loop()
        started = time.perf_counter()
        self._agent = Agent.load(str(self.model_path))
        self.load_seconds = time.perf_counter() - started
        # Warm up: the first call builds TensorFlow's graph functions.
        self.raw("hello")

    def raw(self, text: str) -> Dict[str, Any]:
        """Rasa's own parse result for ``text``."""
        return self._loop.run_until_complete(self._agent.parse_message(text))

    def parse(self, text: str) -> Dict[str, Any]:
        """Parse one utterance into the contract's output record."""
        data = self.raw(text)
        decided = decide_intent(data, self.threshold, self.ambiguity)
        record: Dict[str, Any] = {
            "text": text,
            "intent": decided["intent"],
            "confidence": decided["confidence"],
            "entities": merge_entities(data.get("entities") or []),
            "fallback": decided["fallback"],
        }
        if "guess" in decided:
            record["guess"] = decided["guess"]
        return record

    def close(self) -> None:
        """Release the event loop."""
        self._loop.close()


def handle_line(parser: NluParser, line: str, number: int) -> Dict[str, Any]:
    """Parse one input line; problems become an ``error`` record, never an exception."""
    stripped = line.strip()
    if not stripped:
        return {"line": number, "error": "empty line"}
    try:
        item = json.loads(stripped)
    except json.JSONDecodeError as exc:
        return {"line": number, "error": f"invalid JSON: {exc.msg}"}
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return {"line": number, "error": 'expected an object {"text": "..."}'}
    text = item["text"]
    if not text.strip():
        return {"line": number, "text": text, "error": "empty text"}
    try:
        return parser.parse(text)
    except Exception as exc:  # noqa: BLE001 - one bad line must not stop a batch
        return {"line": number, "text": text, "error": f"parse failed: {type(exc).__name__}"}


def run(parser: NluParser, stdin: IO[str], stdout: IO[str]) -> int:
    """Read JSON lines from ``stdin`` and write one result line each to ``stdout``."""
    count = 0
    for number, line in enumerate(stdin, start=1):
        stdout.write(json.dumps(handle_line(parser, line, number), ensure_ascii=False) + "\n")
        stdout.flush()
        count += 1
    return count


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="model .tar.gz, or a directory of them")
    ap.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="confidence needed to act on an intent (default: the model's FallbackClassifier)",
    )
    ap.add_argument(
        "--ambiguity",
        type=float,
        default=None,
        help="with --threshold: minimum margin over the second intent",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    try:
        parser = NluParser(args.model, args.threshold, args.ambiguity)
    except FileNotFoundError as exc:
        print(f"nlu_parse: {exc}", file=sys.stderr)
        return 2
    # Undecodable bytes must not end the run: they become U+FFFD (then usually an error line).
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    try:
        run(parser, sys.stdin, sys.stdout)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more to do.
        pass
    finally:
        parser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
