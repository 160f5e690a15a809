"""The load benchmark's own check (nothing lost, duplicated or left behind), run small.

The real run (50 laptops for 60 s) is `make soak`; its figures are in docs/performance.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_load.py"


@pytest.mark.slow
def test_small_load_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    figures = tmp_path / "load.json"
    out = subprocess.run(
        [sys.executable, str(BENCH), "--clients", "4", "--seconds", "3", "--procs", "2",
         "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "lost 0 duplicated 0 · left to push 0" in out.stdout
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert data["requests"] > 0 and data["entries_captured"] > 0
    assert data["lost"] == data["duplicated"] == data["left_to_push"] == data["not_pulled"] == 0
