"""``assistant oncall show|import|add`` run as the real command line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from tests.utils.command_line import assistant


def test_roster_import_and_show(db_url: str, engine: Engine, tmp_path: Path) -> None:
    empty = assistant(db_url, tmp_path, "oncall", "show")
    assert empty.returncode == 1, empty.stderr
    assert "primary  (nobody)" in empty.stdout

    imported = assistant(db_url, tmp_path, "oncall", "import", "bot/oncall.yml")
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 shifts" in imported.stdout and "ACK within 5 min" in imported.stdout

    shown = assistant(db_url, tmp_path, "oncall", "show")
    assert shown.returncode == 0, shown.stderr
    assert "primary  Sam Ortiz +15305550150" in shown.stdout
    assert "backup   Lee Park +15305550151" in shown.stdout
    assert "Tue 2026-11-24 10:00 PST" in shown.stdout

    swap = assistant(
        db_url,
        tmp_path,
        "oncall",
        "add",
        "--name",
        "Kim Diaz",
        "--phone",
        "530 555 0152",
        "--role",
        "primary",
        "--from",
        "2026-11-24 09:00",
        "--to",
        "2026-11-24 21:00",
    )
    assert swap.returncode == 0, swap.stderr
    assert "primary  Kim Diaz +15305550152" in assistant(db_url, tmp_path, "oncall", "show").stdout
    later = assistant(db_url, tmp_path, "oncall", "show", "--at", "2026-11-24 21:00")
    assert "primary  Sam Ortiz" in later.stdout

    bad = assistant(
        db_url,
        tmp_path,
        "oncall",
        "add",
        "--name",
        "X",
        "--phone",
        "nope",
        "--role",
        "primary",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-25",
    )
    assert bad.returncode == 2 and "not a phone number" in bad.stderr
    assert "Traceback" not in bad.stderr
