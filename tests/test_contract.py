"""The repository's copy of the shared contract (docs/contract) is the one everything reads.

Beside the shared folder (a checkout next to ``../shared``) the copy must be
identical to the original; in a clone of the repository alone the copy is all
there is, and it must be complete.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / "docs" / "contract"
ORIGINAL = ROOT.parent / "shared" / "contract"
FILES = ("intents.yml", "demo-personas.yml", "interfaces.md")


@pytest.mark.parametrize("name", FILES)
def test_the_copy_is_complete(name: str) -> None:
    text = (COPY / name).read_text(encoding="utf-8")
    assert text.strip()
    if name.endswith(".yml"):
        assert isinstance(yaml.safe_load(text), dict)


@pytest.mark.parametrize("name", FILES)
def test_the_copy_matches_the_shared_contract_when_it_is_beside_the_checkout(name: str) -> None:
    original = ORIGINAL / name
    if not ORIGINAL.is_dir():
        # A clone of the repository alone: nothing to compare with; the copy stands.
        assert (COPY / name).is_file()
        return
    assert original.is_file(), f"{original} is gone from the shared contract"
    assert (COPY / name).read_bytes() == original.read_bytes(), (
        f"docs/contract/{name} differs from {original}: copy the shared contract again"
    )


def test_nothing_in_the_shared_contract_is_missing_from_the_copy() -> None:
    if not ORIGINAL.is_dir():
        assert sorted(p.name for p in COPY.iterdir() if p.suffix in (".yml", ".md")) == sorted(
            FILES
        )
        return
    assert sorted(p.name for p in ORIGINAL.iterdir()) == sorted(FILES)
