"""Evaluate a trained NLU model on the held-out set, through the same path as nlu_parse.

Run with the Rasa environment (Python 3.10)::

    .venv-rasa/bin/python bot/nlu_eval.py --model var/models-nlu \
        [--data tests/bot/nlu_heldout.yml] [--threshold X] [--report docs/nlu-report.md]

Every held-out utterance goes through :class:`nlu_parse.NluParser`, so the
fallback (low confidence -> out_of_scope) counts exactly as it does in
production. Writes a Markdown report (overall accuracy, per-intent
precision/recall/F1, confusion pairs, misclassified examples, entity scores and a
fallback-threshold sweep) and a JSON report. Exits 1 when overall accuracy is
below ``--min-accuracy`` (0.92) or any intent's recall is below
``--min-recall`` (0.80).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlu_parse import CONTRACT_INTENTS, NluParser, decide_intent, merge_entities  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ENTITY_RE = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<entity>[^)]+)\)")
SWEEP = (None, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def strip_annotations(example: str) -> Tuple[str, List[Dict[str, Any]]]:
    """Return the plain text of a Rasa-annotated example and its entity spans."""
    text, entities, pos = "", [], 0
    for m in ENTITY_RE.finditer(example):
        text += example[pos : m.start()]
        start = len(text)
        text += m.group("text")
        name = m.group("entity").split(":")[0].strip()
        entities.append({"entity": name, "start": start, "end": len(text), "value": m.group("text")})
        pos = m.end()
    text += example[pos:]
    return text, entities


def load_examples(path: Path) -> List[Dict[str, Any]]:
    """Read a Rasa NLU YAML file into ``[{"text", "intent", "entities"}]``."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for block in doc.get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            text, entities = strip_annotations(line[2:].strip())
            out.append({"text": text, "intent": block["intent"], "entities": entities})
    return out


def intent_metrics(gold: List[str], pred: List[str]) -> Dict[str, Dict[str, float]]:
    """Per-intent precision, recall, F1 and support."""
    labels = sorted(set(gold) | set(pred))
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    out = {}
    for label in labels:
        prec = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        rec = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[label] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
            "support": tp[label] + fn[label],
        }
    return out


def entity_metrics(examples: List[Dict[str, Any]], results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Exact-span entity precision/recall per entity type."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for ex, res in zip(examples, results):
        gold = {(e["entity"], e["start"], e["end"]) for e in ex["entities"]}
        pred = {(e["entity"], e["start"], e["end"]) for e in res["entities"]}
        for key in gold & pred:
            tp[key[0]] += 1
        for key in pred - gold:
            fp[key[0]] += 1
        for key in gold - pred:
            fn[key[0]] += 1
    out = {}
    for name in sorted(set(tp) | set(fp) | set(fn)):
        prec = tp[name] / (tp[name] + fp[name]) if tp[name] + fp[name] else 0.0
        rec = tp[name] / (tp[name] + fn[name]) if tp[name] + fn[name] else 0.0
        out[name] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "support": tp[name] + fn[name],
            "false_positives": fp[name],
        }
    return out


def sweep(
    examples: List[Dict[str, Any]], raws: List[Dict[str, Any]], ambiguity: Optional[float]
) -> List[Dict[str, Any]]:
    """Accuracy and out_of_scope behaviour for several fallback thresholds."""
    rows = []
    for t in SWEEP:
        pred = [decide_intent(r, t, ambiguity if t is not None else None)["intent"] for r in raws]
        gold = [e["intent"] for e in examples]
        oos = [p for g, p in zip(gold, pred) if g == "out_of_scope"]
        inscope = [(g, p) for g, p in zip(gold, pred) if g != "out_of_scope"]
        m = intent_metrics(gold, pred)
        rows.append(
            {
                "threshold": "model" if t is None else t,
                "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(gold), 4),
                "oos_recall": round(sum(p == "out_of_scope" for p in oos) / max(len(oos), 1), 4),
                "in_scope_to_oos": round(
                    sum(p == "out_of_scope" for _, p in inscope) / max(len(inscope), 1), 4
                ),
                "min_recall": min(v["recall"] for k, v in m.items() if k in set(gold)),
            }
        )
    return rows


def write_markdown(report: Dict[str, Any], path: Path) -> None:
    """Render the report as Markdown."""
    lines = [
        "# NLU evaluation on the held-out set",
        "",
        "Generated by `bot/nlu_eval.py`; do not edit by hand.",
        "",
        f"- model: `{report['model']}`",
        f"- data: `{report['data']}` ({report['n']} utterances, never trained on)",
        f"- fallback threshold: {report['threshold']}",
        f"- **overall accuracy: {report['accuracy']:.4f}** "
        f"(target >= {report['min_accuracy']}); lowest intent recall: "
        f"{report['min_recall']['intent']} {report['min_recall']['recall']:.4f} "
        f"(target >= {report['min_recall_target']})",
        f"- macro F1: {report['macro_f1']:.4f}; out_of_scope recall "
        f"{report['per_intent'].get('out_of_scope', {}).get('recall', 0):.4f}; "
        f"in-scope utterances turned into out_of_scope by the fallback: "
        f"{report['in_scope_fallbacks']}",
        f"- parse latency: median {report['latency_ms']['median']:.1f} ms, "
        f"p95 {report['latency_ms']['p95']:.1f} ms",
        f"- result: **{'PASS' if report['passed'] else 'FAIL'}**",
        "",
        "## Per intent",
        "",
        "| intent | support | precision | recall (accuracy) | F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in CONTRACT_INTENTS:
        m = report["per_intent"].get(name)
        if m is None:
            lines.append(f"| {name} | 0 | - | - | - |")
            continue
        lines.append(
            f"| {name} | {m['support']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |"
        )
    lines += ["", "## Confusion pairs (gold -> predicted)", ""]
    if report["confusions"]:
        lines += ["| gold | predicted | count |", "|---|---|---:|"]
        lines += [f"| {c['gold']} | {c['predicted']} | {c['count']} |" for c in report["confusions"]]
    else:
        lines.append("None.")
    lines += ["", "## Misclassified examples", ""]
    if report["errors"]:
        lines += ["| text | gold | predicted | confidence | model's guess |", "|---|---|---|---:|---|"]
        for e in report["errors"]:
            text = e["text"].replace("|", "\\|")
            lines.append(
                f"| {text} | {e['gold']} | {e['predicted']} | {e['confidence']:.3f} "
                f"| {e.get('guess', '')} |"
            )
    else:
        lines.append("None.")
    lines += [
        "",
        "## Fallback threshold sweep",
        "",
        "Same parses, judged with different thresholds (`model` = the FallbackClassifier "
        "in config.yml).",
        "",
        "| threshold | accuracy | out_of_scope recall | in-scope sent to out_of_scope "
        "| lowest intent recall |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["sweep"]:
        lines.append(
            f"| {r['threshold']} | {r['accuracy']:.4f} | {r['oos_recall']:.4f} "
            f"| {r['in_scope_to_oos']:.4f} | {r['min_recall']:.4f} |"
        )
    lines += [
        "",
        "## Entities (exact span and type)",
        "",
        "| entity | support | precision | recall | false positives |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in report["entities"].items():
        lines.append(
            f"| {name} | {m['support']} | {m['precision']:.3f} | {m['recall']:.3f} "
            f"| {m['false_positives']} |"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def evaluate(
    parser: NluParser, examples: List[Dict[str, Any]], ambiguity: Optional[float]
) -> Dict[str, Any]:
    """Parse every example and compute the report dict."""
    results, raws, times = [], [], []
    for ex in examples:
        started = time.perf_counter()
        raw = parser.raw(ex["text"])
        decided = decide_intent(raw, parser.threshold, parser.ambiguity)
        times.append((time.perf_counter() - started) * 1000)
        raws.append(raw)
        results.append(
            {
                **decided,
                "entities": merge_entities(raw.get("entities") or []),
            }
        )
    gold = [e["intent"] for e in examples]
    pred = [r["intent"] for r in results]
    per_intent = intent_metrics(gold, pred)
    accuracy = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    gold_intents = sorted(set(gold))
    worst = min(gold_intents, key=lambda k: per_intent[k]["recall"])
    confusions = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    errors = [
        {
            "text": ex["text"],
            "gold": ex["intent"],
            "predicted": r["intent"],
            "confidence": r["confidence"],
            **({"guess": r["guess"]} if "guess" in r else {}),
        }
        for ex, r in zip(examples, results)
        if ex["intent"] != r["intent"]
    ]
    times_sorted = sorted(times)
    return {
        "n": len(examples),
        "accuracy": round(accuracy, 4),
        "macro_f1": round(sum(per_intent[k]["f1"] for k in gold_intents) / len(gold_intents), 4),
        "per_intent": per_intent,
        "min_recall": {"intent": worst, "recall": per_intent[worst]["recall"]},
        "confusions": [
            {"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common()
        ],
        "errors": errors,
        "in_scope_fallbacks": sum(
            1 for g, r in zip(gold, results) if g != "out_of_scope" and r["intent"] == "out_of_scope"
        ),
        "entities": entity_metrics(examples, results),
        "sweep": sweep(examples, raws, ambiguity if ambiguity is not None else 0.1),
        "latency_ms": {
            "median": times_sorted[len(times) // 2],
            "p95": times_sorted[min(len(times) - 1, int(len(times) * 0.95))],
        },
        "missing_intents": [i for i in CONTRACT_INTENTS if i not in set(gold)],
    }


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "var" / "models-nlu"))
    ap.add_argument("--data", default=str(ROOT / "tests" / "bot" / "nlu_heldout.yml"))
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--ambiguity", type=float, default=None)
    ap.add_argument("--report", default=str(ROOT / "docs" / "nlu-report.md"))
    ap.add_argument("--json", default=str(ROOT / "var" / "nlu-report.json"))
    ap.add_argument("--min-accuracy", type=float, default=0.92)
    ap.add_argument("--min-recall", type=float, default=0.80)
    args = ap.parse_args(argv)

    examples = load_examples(Path(args.data))
    if not examples:
        print(f"nlu_eval: no examples in {args.data}", file=sys.stderr)
        return 2
    parser = NluParser(args.model, args.threshold, args.ambiguity)
    try:
        report = evaluate(parser, examples, args.ambiguity)
    finally:
        parser.close()
    report.update(
        {
            "model": str(parser.model_path.relative_to(ROOT))
            if parser.model_path.is_relative_to(ROOT)
            else str(parser.model_path),
            "data": str(Path(args.data).resolve().relative_to(ROOT))
            if Path(args.data).resolve().is_relative_to(ROOT)
            else args.data,
            "threshold": "model (config.yml FallbackClassifier)"
            if args.threshold is None
            else args.threshold,
            "min_accuracy": args.min_accuracy,
            "min_recall_target": args.min_recall,
        }
    )
    failures = []
    if report["accuracy"] < args.min_accuracy:
        failures.append(f"accuracy {report['accuracy']:.4f} < {args.min_accuracy}")
    for name, m in sorted(report["per_intent"].items()):
        if m["support"] and m["recall"] < args.min_recall:
            failures.append(f"{name} recall {m['recall']:.4f} < {args.min_recall}")
    if report["missing_intents"]:
        failures.append("no held-out examples for: " + ", ".join(report["missing_intents"]))
    report["passed"] = not failures
    report["failures"] = failures
    write_markdown(report, Path(args.report))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")

    print(
        f"accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}  "
        f"lowest recall {report['min_recall']['intent']} {report['min_recall']['recall']:.4f}  "
        f"median {report['latency_ms']['median']:.1f} ms  p95 {report['latency_ms']['p95']:.1f} ms"
    )
    for r in report["sweep"]:
        print(
            f"  threshold {r['threshold']}: acc {r['accuracy']:.4f} oos-recall {r['oos_recall']:.4f}"
            f" in-scope->oos {r['in_scope_to_oos']:.4f} min-recall {r['min_recall']:.4f}"
        )
    for f in failures:
        print("FAIL:", f)
    print(f"report: {args.report}  json: {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
