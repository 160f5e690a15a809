"""The import contract of DESIGN.md, checked in a fresh interpreter each time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = [
    "roundtable.model",
    "roundtable.capture",
    "roundtable.store",
    "roundtable.journal",
    "roundtable.storage",
    "roundtable.minutes",
    "roundtable.report",
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


@pytest.mark.parametrize("module", ["roundtable.store", "roundtable.minutes", "roundtable.cli"])
def test_heavy_libraries_are_imported_lazily(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    for heavy in ("httpx", "fastapi", "uvicorn", "markdown_it"):
        assert heavy not in loaded, f"{module} imports {heavy} at import time"


def test_only_the_store_imports_tinydb() -> None:
    for module in CORE:
        if module in ("roundtable.store", "roundtable.storage", "roundtable.journal"):
            continue
        loaded = _modules_after(f"import {module}")
        assert "tinydb" not in loaded, f"{module} pulls in tinydb"


def test_widgets_never_import_store_or_sync() -> None:
    loaded = _modules_after("import widgets")
    assert "roundtable.store" not in loaded
    assert "roundtable.sync" not in loaded
    assert "tinydb" not in loaded


def test_secretariat_imports_nothing_of_the_client() -> None:
    loaded = _modules_after("import roundtable.secretariat")
    for client in ("roundtable.store", "roundtable.sync", "roundtable.app", "textual"):
        assert client not in loaded, client
