"""Headline figures of each benchmark, machine-readable, for `bench/run_all.py`'s ratios.

A benchmark calls ``record("capture", roundtable_p99_ms=1.3, ...)``; when ``RT_BENCH_FIGURES``
names a file (run_all sets it), the values are merged into that JSON file under the
benchmark's name.  Run by hand, a benchmark only prints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def record(bench: str, **values: float | int | str) -> None:
    target = os.environ.get("RT_BENCH_FIGURES")
    if not target:
        return
    path = Path(target)
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.setdefault(bench, {}).update(values)
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
