"""How long one background sync round holds the app's event loop (issue 16's measurement).

Run: `python bench/bench_sync_round.py [--entries 2000] [--rounds 5]`.  Prints Markdown.

The laptop: three sessions of ``--entries`` entries each that are not open (pushed by an
earlier round, so nothing of theirs is pending), plus
the open session, held as the app holds it (``open_session(lazy_history=True)``, history read),
with a few captures pending.  The secretariat is a real uvicorn on 127.0.0.1 in a subprocess.
A round is ``SyncClient.sync_once()`` run on an asyncio loop beside a 1 ms heartbeat task, as
the app's worker runs beside its frames; every callback the loop runs is timed.  As in the app,
the collector's generations are frozen (``gc.freeze()``) once the open session is loaded.

Cases: *quiet* (only the open session has something to push), *another pending* (another
session got 50 captures from `roundtable add` since: its outbox is pushed).  Figures: the
longest the loop was held by one callback (a frame cannot be drawn meanwhile), the longest
heartbeat gap, and the round's wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.events
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import AGENDA, start_server  # noqa: E402

from roundtable.store import LocalStore  # noqa: E402
from roundtable.sync import SyncClient  # noqa: E402


def where(handle: asyncio.events.Handle) -> str:
    """Where the task a callback stepped stopped next (its innermost await in roundtable)."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    coro = task.get_coro() if isinstance(task, asyncio.Task) else None
    frame = None
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        if "roundtable" in coro.cr_frame.f_code.co_filename or frame is None:
            frame = coro.cr_frame  # the innermost frame of roundtable's own code
        coro = coro.cr_await
    if frame is None:
        return repr(handle)[:120]
    path = Path(frame.f_code.co_filename)
    return f"{frame.f_code.co_name} ({path.name}:{frame.f_lineno}), after the step"


class LoopTimer:
    """Times every callback the asyncio loop runs (``Handle._run``) and a 1 ms heartbeat."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.longest_what = ""
        self.gap = 0.0
        self._orig = asyncio.events.Handle._run

    def __enter__(self) -> LoopTimer:
        timer, orig = self, self._orig

        def timed(handle: asyncio.events.Handle) -> None:
            start = time.perf_counter()
            orig(handle)
            took = time.perf_counter() - start
            if took > timer.longest:
                timer.longest = took
                timer.longest_what = where(handle)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.events.Handle._run = self._orig  # type: ignore[method-assign]

    async def heartbeat(self, stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.gap = max(self.gap, now - last)
            last = now


async def timed_round(client: SyncClient) -> tuple[LoopTimer, float, str]:
    stop = asyncio.Event()
    with LoopTimer() as timer:
        beat = asyncio.create_task(timer.heartbeat(stop))
        start = time.perf_counter()
        result = await client.sync_once()
        wall = time.perf_counter() - start
        stop.set()
        await beat
    assert result.ok, result.summary()
    return timer, wall, result.summary()


def build(home: Path, url: str, token: str, event_id: str, entries: int) -> list[str]:
    store = LocalStore(home)
    first = asyncio.run(SyncClient(store, url, token).sync_once())
    assert first.ok, first.summary()
    sids = []
    for n in range(3):
        sid = store.create_session(event_id, "europe", f"Other room {n}", AGENDA).id
        with store.open_session(sid) as ss:
            for i in range(entries):
                ss.add_entry("need", f"Training need {i}", delegations=["FR"], crime_areas=["x"])
        sids.append(sid)
    pushed = asyncio.run(SyncClient(store, url, token, round_deadline=600).sync_once())
    assert pushed.ok, pushed.summary()
    return sids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from roundtable.secretariat import create_event, issue_token

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        db = tmp_path / "server.db"
        event_id = create_event(db, "Bench conference")
        token = issue_token(db, event_id, ["*"])
        proc, url = start_server(db)
        try:
            home = tmp_path / "laptop"
            t0 = time.perf_counter()
            others = build(home, url, token, event_id, args.entries)
            built = time.perf_counter() - t0
            store = LocalStore(home)  # the app's store
            sid = store.create_session(event_id, "europe", "Open room", AGENDA).id
            ss = store.open_session(sid, lazy_history=True)
            while not ss.load_history_step(100):
                pass
            gc.freeze()  # as the app does once the open session is loaded (docs/architecture.md)
            rows = []

            async def rounds(case: str, before) -> None:
                client = SyncClient(store, url, token)
                held, gaps, walls = [], [], []
                what = ""
                summary = ""
                for _ in range(args.rounds):
                    before()
                    timer, wall, summary = await timed_round(client)
                    if not held or timer.longest > max(held):
                        what = timer.longest_what
                    held.append(timer.longest)
                    gaps.append(timer.gap)
                    walls.append(wall)
                rows.append((case, held, gaps, walls, what, summary))

            def capture_open() -> None:
                for i in range(5):
                    ss.add_entry("note", f"Live note {i}")

            def capture_other() -> None:
                capture_open()
                with LocalStore(home).open_session(others[0]) as other:
                    for i in range(50):
                        other.add_entry("note", f"Added from the CLI {i}")

            async def all_cases() -> None:
                await rounds("quiet (open session: 5 pending)", capture_open)
                await rounds("another session with 50 pending", capture_other)

            asyncio.run(all_cases())
            ss.close()
        finally:
            proc.terminate()
            proc.wait(10)

    print(f"## Sync round: event-loop time ({args.entries:,} entries x 3 other sessions)\n")
    print(f"Command: `python bench/bench_sync_round.py --entries {args.entries} --rounds "
          f"{args.rounds}` (laptop built in {built:.0f} s).\n")  # fmt: skip
    print("| case | longest callback, median / max (ms) | longest heartbeat gap, max (ms) "
          "| round wall time, median (ms) |")  # fmt: skip
    print("|---|---|---|---|")
    for case, held, gaps, walls, _what, _summary in rows:
        print(
            f"| {case} | {statistics.median(held) * 1000:.1f} / {max(held) * 1000:.1f} "
            f"| {max(gaps) * 1000:.1f} | {statistics.median(walls) * 1000:.0f} |"
        )
    print()
    for case, _held, _gaps, _walls, what, summary in rows:
        print(f"- {case}: the longest callback's task then waited in `{what}`; last round: "
              f"{summary}")  # fmt: skip


if __name__ == "__main__":
    main()
