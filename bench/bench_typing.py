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


async def measure(
    home: Path, session_id: str, captures: int, whole: bool, keystroke: bool = False
) -> list[float]:
    """Seconds from the key event to the first frame that shows its effect: the new row for
    Enter (a capture), the new character in the capture bar for a keystroke."""
    from textual import events

    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from widgets import CaptureBar, EntryTable

    app = RoundtableApp(home=home, session_id=session_id, settings=Settings(), sync_enabled=False)
    shown_at: list[float] = []
    waiting: list = []  # the predicate of the frame we wait for
    original_display = app._display

    def display(screen, renderable) -> None:
        if renderable is not None:
            renderable.render_segments(app.console)  # what the terminal driver would write
            if waiting and waiting[0]():
                shown_at.append(time.perf_counter())
                waiting.clear()
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
        bar = screen.query_one(CaptureBar)

        def last_row_has(marker: str):
            return lambda: table.row_count and marker in table.get_row_at(table.row_count - 1)[1]

        for n in range(captures + 3):  # the first three warm caches and are not counted
            line = f"/issue Bench capture {n} on port security @GH #drugs"
            bar.focus_input()
            if keystroke:
                bar.input.value = line[:-1]
                bar.input.cursor_position = len(line) - 1
                key = events.Key(line[-1], line[-1])
                waiting_for = lambda line=line: bar.input.value == line  # noqa: E731
            else:
                bar.input.value = line
                key = events.Key("enter", "\r")
                waiting_for = last_row_has(f"Bench capture {n} ")
            await pilot.pause()
            shown_at.clear()
            waiting[:] = [waiting_for]
            started = time.perf_counter()
            app._driver.send_message(key)
            deadline = started + 10
            while not shown_at:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"key {n} never reached the screen")
                await asyncio.sleep(0.0005)
            if n >= 3:
                times.append(shown_at[0] - started)
            if keystroke:
                bar.input.value = ""
        await pilot.pause()
        if not keystroke:
            visible = app.export_screenshot().replace("&#160;", " ")
            if f"Bench capture {captures + 2} " not in visible:
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
        cases = (
            ("capture (Enter), current item", False, False),
            ("capture (Enter), whole session", True, False),
            ("one keystroke in the capture bar", False, True),
        )
        for label, whole, keystroke in cases:
            times = sorted(asyncio.run(measure(home, sid, args.captures, whole, keystroke)))
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            rows.append((label, statistics.median(times), p95, times[-1]))
    print(
        f"typing-to-screen (key event to the frame that shows it), {args.entries:,} entries in "
        f"the session, {args.captures} keys each\n"
    )
    from _figures import record

    captures = [r for r in rows if r[0].startswith("capture")]
    record(
        "typing",
        capture_median_ms=max(r[1] for r in captures) * 1e3,
        capture_p95_ms=max(r[2] for r in captures) * 1e3,
        capture_max_ms=max(r[3] for r in captures) * 1e3,
        keystroke_median_ms=rows[-1][1] * 1e3,
        entries=args.entries,
    )
    print("| key | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, med, p95, worst in rows:
        print(f"| {label} | {med * 1e3:.1f} | {p95 * 1e3:.1f} | {worst * 1e3:.1f} |")


if __name__ == "__main__":
    main()
