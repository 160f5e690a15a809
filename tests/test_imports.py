"""The import contract of DESIGN.md, checked in a fresh interpreter each time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORE = [
    "roundtable.model",
    "roundtable.capture",
    "roundtable.store",
    "roundtable.store.journal",
    "roundtable.store.checkpoint",
    "roundtable.osfiles",
    "roundtable.text",
    "roundtable.minutes",
    "roundtable.report",
    "roundtable.documents",
    "roundtable.protocol",
    "roundtable.sync",
    "roundtable.config",
    "roundtable.checks",
    "sessions",
]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", CORE)
def test_core_module_never_imports_textual(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert module in loaded
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded), module


@pytest.mark.parametrize(
    "module", ["roundtable.store", "roundtable.minutes", "roundtable.cli", "roundtable.app"]
)
def test_heavy_libraries_are_imported_lazily(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    for heavy in ("httpx", "fastapi", "uvicorn", "markdown_it", "babel", "cryptography"):
        assert heavy not in loaded, f"{module} imports {heavy} at import time"


def test_only_the_store_imports_tinydb() -> None:
    """roundtable/store/checkpoint.py (the view) is the only file naming tinydb."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for package in ("roundtable", "widgets", "sessions"):
        for path in (root / package).rglob("*.py"):
            if path.relative_to(root).as_posix() == "roundtable/store/checkpoint.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"^\s*(import tinydb|from tinydb)", text, re.MULTILINE):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
    for module in ("roundtable.capture", "roundtable.minutes", "roundtable.report", "sessions"):
        assert "tinydb" not in _modules_after(f"import {module}"), module


def test_widgets_never_import_store_or_sync() -> None:
    loaded = _modules_after("import widgets")
    assert "roundtable.store" not in loaded
    assert "roundtable.sync" not in loaded
    assert "tinydb" not in loaded


def test_secretariat_imports_nothing_of_the_client() -> None:
    loaded = _modules_after("import roundtable.secretariat")
    for client in ("roundtable.store", "roundtable.sync", "roundtable.app", "textual"):
        assert client not in loaded, client
