"""``assistant nlu parse``: classify JSON lines with the trained model, in Rasa's environment.

Rasa lives in its own Python 3.10 environment, so this command hands stdin and
stdout to ``bot/nlu_parse.py`` running there; the model is loaded once.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
SCRIPT = ROOT / "bot" / "nlu_parse.py"
MODEL = ROOT / "models" / "district.tar.gz"


def cmd_parse(args: argparse.Namespace, services: object) -> int:
    """Replace this process with the parser in the Rasa environment."""
    model = Path(args.model)
    for needed, hint in ((RASA_PYTHON, "run `make run` or `make test` to create .venv-rasa"),
                         (model, "run `make run` to train the model"),
                         (SCRIPT, "bot/nlu_parse.py is missing")):
        if not needed.exists():
            print(f"assistant nlu parse: {needed} not found; {hint}", file=sys.stderr)
            return 1
    command = [str(RASA_PYTHON), str(SCRIPT), "--model", str(model)]
    if args.threshold is not None:
        command += ["--threshold", str(args.threshold)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    sys.stdout.flush()
    os.execve(command[0], command, env)  # noqa: S606 - our own interpreter and script


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``assistant nlu parse``."""
    nlu = subparsers.add_parser("nlu", help="the assistant's language understanding")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    parse = nlu_sub.add_parser("parse", help="JSON lines {\"text\"} in, classifications out")
    parse.add_argument("--model", default=str(MODEL), help="trained model archive")
    parse.add_argument("--threshold", type=float, help="fallback threshold override")
    parse.set_defaults(handler=cmd_parse)
