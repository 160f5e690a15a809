"""`make bench`: run every benchmark in bench/ and write docs/performance.md from what they print.

Each benchmark prints Markdown (a table and a few lines); this script records the machine, the
command and the output of each, so the figures in the document are always the ones measured.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = [
    ("Capture latency and export", "bench/bench_capture.py"),
    ("Start-up", "bench/bench_startup.py"),
    ("Typing-to-screen", "bench/bench_typing.py"),
    ("Sync", "bench/bench_sync.py"),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) // 1024 // 1024} GiB RAM"
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    sections = [
        "# Performance",
        "",
        "Written by `make bench` (`python bench/run_all.py`), which runs every benchmark below "
        "and records exactly what it printed.  Tests never assert on time; these figures are "
        "the evidence for the speed targets of the issues.",
        "",
        f"Machine: {machine()}.  Date: {time.strftime('%Y-%m-%d')}.",
        "",
    ]
    failed = 0
    for title, script in BENCHES:
        path = ROOT / script
        sections += [f"## {title}", "", f"Command: `python {script}`", ""]
        if not path.exists():
            sections += ["(benchmark not present)", ""]
            continue
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(path)], cwd=ROOT, capture_output=True, text=True
        )
        took = time.perf_counter() - started
        if result.returncode != 0:
            failed += 1
            tail = result.stderr.strip().splitlines()[-1:] or ["(no output)"]
            sections += [f"FAILED (exit {result.returncode}): {tail[0]}", ""]
        else:
            sections += [result.stdout.strip(), "", f"(ran in {took:.0f} s)", ""]
        print(f"{script}: {'ok' if result.returncode == 0 else 'FAILED'} in {took:.0f} s")
    (ROOT / "docs" / "performance.md").write_text("\n".join(sections) + "\n", encoding="utf-8")
    print("wrote docs/performance.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
