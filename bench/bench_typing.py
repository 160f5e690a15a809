"""Typing-to-screen: from Enter in the capture bar to the frame that shows the new entry, with
5,000 entries in the session.

Run:  .venv/bin/python bench/bench_typing.py [--captures N]

Drives the real app headless (120x40).  For each capture the line is put in the capture bar and
the app is left to settle (not timed); then the Enter key event is handed to the app as the
terminal driver would, and the clock stops at the first frame the compositor produces that
contains the new row.  The frame is also turned into the terminal byte stream a real driver
writes (``render_segments``), so that cost is included; only the write to a tty is not.

Pilot's ``press()`` is not used for timing: it sleeps in 20 ms steps until the process looks
idle, which measures Pilot rather than the app.  Measured with the usual per-item view and
with the run screen showing the whole session (every entry a candidate row).
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
    from textual import events

    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from widgets import CaptureBar, EntryTable

    app = RoundtableApp(home=home, session_id=session_id, settings=Settings(), sync_enabled=False)
    shown_at: list[float] = []
    waiting_for: list[str] = []
    table_ref: list[EntryTable] = []
    original_display = app._display

    def display(screen, renderable) -> None:
        if renderable is not None:
            renderable.render_segments(app.console)  # what the terminal driver would write
            if waiting_for and table_ref:
                table = table_ref[0]
                last = table.get_row_at(table.row_count - 1) if table.row_count else ("", "")
                if waiting_for[0] in str(last[1]):
                    shown_at.append(time.perf_counter())
                    waiting_for.clear()
        original_display(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        if whole:
            screen.action_whole_session()
            await pilot.pause()
        table = screen.query_one(EntryTable)
        table_ref.append(table)
        bar = screen.query_one(CaptureBar)
        for n in range(captures + 3):  # the first three warm caches and are not counted
            marker = f"Bench capture {n} "
            bar.focus_input()
            bar.query_one("Input").value = f"/issue Bench capture {n} on port security @GH #drugs"
            await pilot.pause()
            shown_at.clear()
            waiting_for[:] = [marker]
            started = time.perf_counter()
            app._driver.send_message(events.Key("enter", "\r"))
            deadline = started + 10
            while not shown_at:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"capture {n} never reached the screen")
                await asyncio.sleep(0.0005)
            if n >= 3:
                times.append(shown_at[0] - started)
        await pilot.pause()
        visible = app.export_screenshot()
        if f"Bench capture {captures + 2} " not in visible.replace("&#160;", " "):
            raise SystemExit("the last capture is not visible on the screen")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--captures", type=int, default=40)
    parser.add_argument("--entries", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, sid = _make_home(Path(tmp), args.entries)
        rows = []
        for label, whole in (("current item", False), ("whole session", True)):
            times = sorted(asyncio.run(measure(home, sid, args.captures, whole)))
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            rows.append((label, statistics.median(times), p95, times[-1]))
    print(
        f"typing-to-screen of one capture (Enter to frame), {args.entries:,} entries in the "
        f"session, {args.captures} captures each\n"
    )
    print("| view | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, med, p95, worst in rows:
        print(f"| {label} | {med * 1e3:.1f} | {p95 * 1e3:.1f} | {worst * 1e3:.1f} |")


if __name__ == "__main__":
    main()
