"""docs/architecture.md's module map and the tree agree: every module is named in it, and
every file it names exists (issue 10: the map is kept with the code)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _map_block() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def test_every_module_is_in_the_map() -> None:
    words = set(re.findall(r"[\w.]+", _map_block()))
    stems = {w.removesuffix(".py") for w in words}
    missing = []
    for package in ("roundtable", "widgets", "sessions"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py" and path.parent.name not in ("roundtable",):
                continue  # a package is named by its folder
            if path.stem not in stems:
                missing.append(str(path.relative_to(ROOT)))
    assert missing == [], f"modules missing from docs/architecture.md's module map: {missing}"


def test_every_file_the_map_names_exists() -> None:
    named = set(re.findall(r"\b([a-z_]+\.(?:py|tcss))\b", _map_block()))
    tree = {p.name for package in ("roundtable", "widgets", "sessions")
            for p in (ROOT / package).rglob("*") if p.is_file()}  # fmt: skip
    assert named - tree == set(), f"the map names files that do not exist: {named - tree}"
