"""The projector's lag: from a journal write (another store handle, as the facilitator's app
writes) to the projector's screen showing it.

Run: `python bench/bench_projector.py [--rounds N] [--poll SECONDS]`.  Prints Markdown.

The projector (``roundtable.screens.projector.ProjectorApp``) runs headless (Textual's
``run_test``) on the demo session, looking at the session's files every 0.5 s.  Each round waits
a random fraction of a poll interval, moves the writer to another agenda item (what ctrl+n
writes: one fsynced journal line), and times until the projector's item title names the new
item, looking every 5 ms.  Target: every change shown within 1 s.  Also the cost of one reload
(open read-only, read the records, close) on the projector's side: the writer never waits for
it (no lock, no shared handle).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import record  # noqa: E402


async def measure(home: Path, session_id: str, rounds: int, poll: float) -> dict:
    from roundtable.screens.projector import ProjectorApp
    from roundtable.store import LocalStore

    writer = LocalStore(home).open_session(session_id)
    items = sorted(writer.records("agenda_item"), key=lambda a: a.position)
    app = ProjectorApp(home=home, session_id=session_id, poll_seconds=poll)
    lags: list[float] = []
    reloads: list[float] = []
    original = app._reload

    def timed_reload(signature):
        t = time.perf_counter()
        original(signature)
        reloads.append(time.perf_counter() - t)

    app._reload = timed_reload  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(poll * 2)
            title = app.screen.query_one("#item-title")
            for n in range(rounds):
                await asyncio.sleep(random.uniform(0, poll))
                item = items[n % len(items)]
                if item.id == writer.session.current_item:
                    item = items[(n + 1) % len(items)]
                want = f"Item {items.index(item) + 1} of {len(items)} · {item.title}"
                start = time.perf_counter()
                writer.go_to_item(item.id)
                while str(title.render()) != want:
                    if time.perf_counter() - start > 5:
                        raise SystemExit(f"round {n}: not shown after 5 s")
                    await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - start)
    finally:
        writer.close()
    return {"lags": lags, "reloads": reloads}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--poll", type=float, default=0.5)
    args = parser.parse_args()
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore
    from sessions import load_roster

    base = Path(tempfile.mkdtemp(prefix="rt-bench-projector-"))
    try:
        os.environ["ROUNDTABLE_HOME"] = str(base / "home")
        session_id = create_demo(LocalStore(base / "home"), load_roster())
        got = asyncio.run(measure(base / "home", session_id, args.rounds, args.poll))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lags = [x * 1000 for x in got["lags"]]
    reloads = [x * 1000 for x in got["reloads"]]
    median, worst = statistics.median(lags), max(lags)
    print(f"{args.rounds} changes (ctrl+n's write) on the demo session, polled every "
          f"{args.poll} s:\n")  # fmt: skip
    print("| figure | value | target |")
    print("|---|---:|---|")
    print(f"| lag, write to screen, median | {median:.0f} ms | |")
    verdict = "met" if worst <= 1000 else "NOT met"
    print(f"| lag, write to screen, worst | {worst:.0f} ms | ≤ 1000 ms: {verdict} |")
    print(f"| one reload (read-only open, read, close), median | "
          f"{statistics.median(reloads):.1f} ms | |")  # fmt: skip
    print(f"| reloads | {len(reloads)} | one per change seen |")
    record("projector", lag_median_ms=round(median), lag_worst_ms=round(worst),
           reload_ms=round(statistics.median(reloads), 1))  # fmt: skip


if __name__ == "__main__":
    main()
