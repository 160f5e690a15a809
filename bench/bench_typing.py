"""Typing-to-screen: from Enter in the capture bar to the new entry shown, 5,000 entries in session.

Run:  .venv/bin/python bench/bench_typing.py [--captures N]

Drives the real app headless with Pilot.  For each capture it sets the line, presses Enter, and
waits until the entry table holds the new row; the time includes parsing, the fsynced journal
append, and the screen refresh.  Measured with the run screen showing the whole session (the
worst case: every entry is a row), and with the usual per-item view.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_startup import _make_home  # noqa: E402


async def measure(home: Path, session_id: str, captures: int, whole: bool) -> list[float]:
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from widgets import CaptureBar, EntryTable

    app = RoundtableApp(home=home, session_id=session_id, settings=Settings(), sync_enabled=False)
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        if whole:
            screen.action_whole_session()
            await pilot.pause()
        table = screen.query_one(EntryTable)
        bar = screen.query_one(CaptureBar)
        for n in range(captures):
            marker = f"Bench capture {n} "
            bar.focus_input()
            bar.query_one("Input").value = f"/issue Bench capture {n} on port security @GH #drugs"
            started = time.perf_counter()
            await pilot.press("enter")
            deadline = started + 10
            while marker not in str(table.get_row_at(table.row_count - 1)[1]):
                if time.perf_counter() > deadline:
                    raise SystemExit(f"capture {n} never appeared on screen")
                await asyncio.sleep(0)
            await pilot.pause()
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--captures", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, sid = _make_home(Path(tmp), 5000)
        rows = []
        for label, whole in (("current item", False), ("whole session (5,000+ rows)", True)):
            times = sorted(asyncio.run(measure(home, sid, args.captures, whole)))
            p95 = times[int(len(times) * 0.95) - 1]
            rows.append((label, statistics.median(times), p95, times[-1]))
    print(
        f"typing-to-screen of one capture, 5,000 entries in the session, {args.captures} "
        "captures each\n"
    )
    print("| view | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, med, p95, worst in rows:
        print(f"| {label} | {med * 1e3:.1f} | {p95 * 1e3:.1f} | {worst * 1e3:.1f} |")


if __name__ == "__main__":
    main()
