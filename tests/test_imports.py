"""Start-up stays lean: heavy libraries are imported where they are used, checked in a fresh
interpreter each time.

The import directions of DESIGN.md (core never imports textual, widgets never import the store,
the secretariat never imports the client, ...) are import-linter contracts in pyproject.toml,
checked by `lint-imports` in `make test`; they read every import statement, including those
inside functions, so they need no test here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("httpx", "fastapi", "uvicorn", "markdown_it", "tinydb", "textual", "babel", "cryptography")


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ("import roundtable.store", {"tinydb"}),
        ("import roundtable.minutes", set()),
        ("import roundtable.cli", set()),
        ("import roundtable.app", {"textual", "tinydb"}),
        # what every command does before it runs: the whole parser, network commands included
        ("import roundtable.cli\nroundtable.cli.build_parser()", set()),
    ],
    ids=["store", "minutes", "cli", "app", "cli-parser"],
)
def test_heavy_libraries_are_imported_lazily(statement: str, allowed: set[str]) -> None:
    loaded = _modules_after(statement)
    for heavy in HEAVY:
        if heavy not in allowed:
            assert heavy not in loaded, f"`{statement}` imports {heavy} at import time"
