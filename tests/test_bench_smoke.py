"""`make bench` plumbing: run_all runs benchmarks small and writes the report with the machine,
the ratios and each benchmark's output, without touching docs/performance.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e  # two real benchmarks: a server and the app in tmux (~8 s of 2 cores)
def test_run_all_quick_writes_machine_ratios_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nHand-written analysis.\n", encoding="utf-8")
    before = (ROOT / "docs" / "performance.md").read_bytes()
    result = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--only", "sync,typing",
         "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nHand-written analysis.")  # kept above the marker
    for needle in ("## Machine", "| CPU |", "| libraries | textual", "## Ratios",
                   "batches of 200 vs one request per change", "push + pull 600 changes",
                   "typing-to-screen of a capture", "## Sync", "## Typing-to-screen",
                   "Command: `python bench/bench_sync.py --changes 600 --clients 3`"):  # fmt: skip
        assert needle in text, needle
    assert "FAILED" not in text and "## Start-up" not in text  # --only
    assert (ROOT / "docs" / "performance.md").read_bytes() == before


def test_run_all_refuses_an_unknown_benchmark(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/run_all.py", "--only", "nosuch", "--output", str(tmp_path / "x")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "unknown benchmark nosuch" in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_failing_benchmark_is_reported_and_the_rest_still_written(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run_all
    finally:
        sys.path.remove(str(ROOT / "bench"))
    broken = tmp_path / "bench_broken.py"
    broken.write_text("import sys\nprint('half a table')\nsys.exit('boom: disk full')\n")
    fine = tmp_path / "bench_fine.py"
    fine.write_text("print('| measure | value |')\n")
    monkeypatch.setattr(run_all, "BENCHES", [
        ("broken", "Broken", str(broken), [], []),
        ("fine", "Fine", str(fine), [], []),
    ])  # fmt: skip
    out = tmp_path / "performance.md"
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--output", str(out)])
    assert run_all.main() == 1
    text = out.read_text(encoding="utf-8")
    assert "## Broken" in text and "FAILED (exit 1): boom: disk full" in text
    assert "## Fine" in text and "| measure | value |" in text and "## Machine" in text
    assert f"{broken}: FAILED" in capsys.readouterr().out
