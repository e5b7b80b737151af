"""Benchmark the NLU: training time, model load, parse latency/throughput, memory.

Run with the Rasa environment (Python 3.10) from the project root::

    .venv-rasa/bin/python bench/nlu_bench.py               # train NLU + full, then measure
    .venv-rasa/bin/python bench/nlu_bench.py --no-train --model var/models-nlu
    .venv-rasa/bin/python bench/nlu_bench.py --no-full     # skip the full (NLU + core) training

Prints its figures (and writes them to var/nlu-bench.json). Timings depend on
what else runs on the machine: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bot"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from nlu_eval import load_examples  # noqa: E402
from nlu_parse import NluParser  # noqa: E402

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process in MiB (Linux /proc)."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_train(args: list[str]) -> dict[str, Any]:
    """Run ``rasa train ...`` and return its wall time and exit status."""
    # RASA_MAX_CACHE_SIZE=0: no reuse of components cached by an earlier training,
    # so this is the time of a training from scratch.
    env = {**os.environ, "RASA_MAX_CACHE_SIZE": "0"}
    started = time.perf_counter()
    proc = subprocess.run(
        [str(RASA), "train", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    tail = proc.stderr.strip().splitlines()[-3:] if proc.returncode else []
    return {"seconds": round(seconds, 1), "returncode": proc.returncode, "error_tail": tail}


def newest_model(directory: Path) -> Path:
    archives = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not archives:
        raise SystemExit(f"no model in {directory}")
    return archives[-1]


def pipe_throughput(model: Path, texts: list[str], lines: int) -> dict[str, Any]:
    """Feed ``lines`` JSON lines through ``bot/nlu_parse.py`` and time the whole run."""
    payload = "".join(json.dumps({"text": texts[i % len(texts)]}) + "\n" for i in range(lines))
    started = time.perf_counter()
    proc = subprocess.run(
        [str(PYTHON), str(ROOT / "bot" / "nlu_parse.py"), "--model", str(model)],
        input=payload,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {
        "lines": lines,
        "seconds_including_load": round(seconds, 2),
        "outputs": len(out),
        "errors": sum(1 for o in out if "error" in o),
        "returncode": proc.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model archive or directory (default: the freshly trained one)")
    ap.add_argument("--no-train", action="store_true", help="skip training, measure --model")
    ap.add_argument("--no-full", action="store_true", help="skip the full NLU + core training")
    ap.add_argument("--config", default="config.yml")
    ap.add_argument("--data", default=str(ROOT / "tests" / "bot" / "nlu_heldout.yml"))
    ap.add_argument("--rounds", type=int, default=3, help="passes over the held-out set")
    ap.add_argument("--pipe-lines", type=int, default=2000, help="lines for the nlu_parse pipe run")
    ap.add_argument("--keep", action="store_true", help="keep the models trained here")
    args = ap.parse_args(argv)

    figures: dict[str, Any] = {"load_average_before": os.getloadavg(), "cpus": os.cpu_count()}
    out_dir = Path(tempfile.mkdtemp(prefix="nlu-bench-", dir=ROOT / "var"))
    model: Path | None = Path(args.model) if args.model else None

    if not args.no_train:
        figures["train_nlu"] = timed_train(
            [
                "nlu",
                "--config",
                args.config,
                "--domain",
                "bot/domain/nlu.yml",
                "--nlu",
                "bot/data/nlu",
                "--out",
                str(out_dir / "nlu"),
            ]
        )
        print(f"training, NLU only:      {figures['train_nlu']['seconds']:.1f} s")
        if model is None and figures["train_nlu"]["returncode"] == 0:
            model = out_dir / "nlu"
        if not args.no_full:
            figures["train_full"] = timed_train(
                [
                    "--config",
                    args.config,
                    "--domain",
                    "bot/domain",
                    "--data",
                    "bot/data",
                    "--out",
                    str(out_dir / "full"),
                    "--augmentation",
                    "0",
                ]
            )
            status = (
                ""
                if figures["train_full"]["returncode"] == 0
                else "  (FAILED: " + " ".join(figures["train_full"]["error_tail"]) + ")"
            )
            print(f"training, NLU + core:    {figures['train_full']['seconds']:.1f} s{status}")
    if model is None:
        model = ROOT / "var" / "models-nlu"
    archive = newest_model(model) if model.is_dir() else model
    figures["model"] = str(archive)

    rss_before = rss_mb()
    started = time.perf_counter()
    import rasa.core.agent  # noqa: F401  (TensorFlow and friends: paid once per process)

    figures["import_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    parser = NluParser(str(archive))
    figures["load_seconds"] = round(time.perf_counter() - started, 2)
    figures["rss_mb_loaded"] = round(rss_mb(), 1)
    figures["rss_mb_before_load"] = round(rss_before, 1)

    texts = [e["text"] for e in load_examples(Path(args.data))]
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter()
            parser.parse(text)
            latencies.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    parser.close()
    latencies.sort()
    figures["parse"] = {
        "messages": len(latencies),
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "max_ms": round(latencies[-1], 2),
        "throughput_per_s": round(len(latencies) / wall, 1),
    }
    figures["rss_mb_after_parsing"] = round(rss_mb(), 1)
    figures["pipe"] = pipe_throughput(archive, texts, args.pipe_lines)
    figures["load_average_after"] = os.getloadavg()
    if not args.keep:
        shutil.rmtree(out_dir, ignore_errors=True)

    p = figures["parse"]
    shown = archive.relative_to(ROOT) if archive.is_relative_to(ROOT) else archive
    print(f"model:                   {shown}")
    print(f"import rasa:             {figures['import_seconds']:.2f} s")
    print(f"model load (Agent.load): {figures['load_seconds']:.2f} s (incl. warm-up parse)")
    print(
        f"parse latency:           median {p['median_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms, "
        f"max {p['max_ms']:.1f} ms over {p['messages']} messages"
    )
    print(f"throughput (in process): {p['throughput_per_s']:.0f} messages/s, one at a time")
    pipe = figures["pipe"]
    print(
        f"nlu_parse.py pipe:       {pipe['lines']} lines in {pipe['seconds_including_load']:.1f} s "
        f"incl. start-up ({pipe['errors']} errors, rc {pipe['returncode']})"
    )
    print(
        f"resident memory (RSS):   {figures['rss_mb_loaded']:.0f} MiB with the model loaded, "
        f"{figures['rss_mb_after_parsing']:.0f} MiB after parsing "
        f"({figures['rss_mb_before_load']:.0f} MiB before loading)"
    )
    print(
        f"load average:            {figures['load_average_before'][0]:.2f} before, "
        f"{figures['load_average_after'][0]:.2f} after ({figures['cpus']} CPUs)"
    )
    out = ROOT / "var" / "nlu-bench.json"
    out.write_text(json.dumps(figures, indent=2, default=str))
    print(f"figures: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
