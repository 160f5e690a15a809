"""Start-up: process start to the first interactive screen, beside a bare Textual app.

Run:  .venv/bin/python bench/bench_startup.py [--runs N]

Each measurement is a fresh interpreter (so imports count), running headless, that prints the
wall-clock time when its first screen is ready (``on_ready``: the first frame is composed, then
one more refresh for the screen's own after-mount work); the parent subtracts the time it
spawned it.  Every case runs once untimed first, so files and compiled bytecode are cached as
they are on a laptop after the first start.
Cases: a bare App (Header, Static, Footer); ``roundtable`` with no argument, whose first screen
is the session list, on the demo event and on an event whose session has 5,000 entries; and
opened on a session (``--session``), whose first screen is the run screen, for the same two.
Prints a Markdown table with medians and the ratio to the bare app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

BARE = textwrap.dedent(
    """
    import time
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

        def on_ready(self):
            self.call_after_refresh(self._done)

        def _done(self):
            print(time.time(), flush=True)
            self.exit()

    Bare().run(headless=True, size=(120, 40))
    """
)

ROUNDTABLE = textwrap.dedent(
    """
    import sys, time
    from roundtable.app import RoundtableApp

    class Timed(RoundtableApp):
        def on_ready(self):
            self.call_after_refresh(self._done)

        def _done(self):
            print(time.time(), type(self.screen).__name__, flush=True)
            self.exit()

    session_id = None if sys.argv[1] == "-" else sys.argv[1]
    Timed(session_id=session_id, sync_enabled=False).run(headless=True, size=(120, 40))
    """
)


def _spawn(code: str, *args: str, home: Path | None = None) -> tuple[float, str]:
    env = dict(os.environ)
    # as on a facilitator's laptop: compiled bytecode is cached after the first run (some
    # sandboxes set this variable, which makes every run compile every module again)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if home is not None:
        env["ROUNDTABLE_HOME"] = str(home)
        env["ROUNDTABLE_CONFIG"] = str(home / "settings.toml")
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    fields = out.stdout.strip().splitlines()[-1].split()
    return float(fields[0]) - t0, (fields[1] if len(fields) > 1 else "")


def _make_home(base: Path, entries: int) -> tuple[Path, str]:
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore
    from sessions import load_roster

    home = base / f"home-{entries}"
    store = LocalStore(home)
    session_id = create_demo(store, load_roster())
    if entries:
        with store.open_session(session_id) as ss:
            have = len(ss.records("entry"))
            kinds = ("issue", "need", "action", "decision", "note")
            for n in range(max(entries - have, 0)):
                ss.add_entry(
                    entry_kind=kinds[n % 5],
                    text=f"Bench entry {n} on regional cooperation against trafficking",
                    delegations=["GH", "NG"],
                    crime_areas=["drugs"],
                )
    return home, session_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        demo_home, demo_sid = _make_home(Path(tmp), 0)
        big_home, big_sid = _make_home(Path(tmp), 5000)
        cases = [
            ("bare Textual app (Header, Static, Footer)", BARE, (), None),
            ("`roundtable`: the session list, demo event", ROUNDTABLE, ("-",), demo_home),
            ("`roundtable`: the session list, 5,000-entry event", ROUNDTABLE, ("-",), big_home),
            ("`roundtable --session`: run screen, demo", ROUNDTABLE, (demo_sid,), demo_home),
            ("`roundtable --session`: run screen, 5,000 entries", ROUNDTABLE, (big_sid,), big_home),
        ]
        for _name, code, extra, home in cases:  # warm the file and bytecode caches
            _spawn(code, *extra, home=home)
        for name, code, extra, home in cases:
            times = []
            screen = ""
            for _ in range(args.runs):
                seconds, screen = _spawn(code, *extra, home=home)
                times.append(seconds)
            rows.append((name, statistics.median(times), min(times), max(times), screen))
    bare = rows[0][1]
    from _figures import record

    record(
        "startup",
        bare_s=bare,
        demo_home_s=rows[1][1],
        big_home_s=rows[2][1],
        demo_s=rows[3][1],
        big_s=rows[4][1],
        runs=args.runs,
    )
    print(f"start-up to first interactive screen, {args.runs} runs each, headless 120x40\n")
    print("| case | median s | min s | max s | ratio to bare | screen |")
    print("|---|---:|---:|---:|---:|---|")
    for name, med, lo, hi, screen in rows:
        print(f"| {name} | {med:.3f} | {lo:.3f} | {hi:.3f} | {med / bare:.2f}x | {screen} |")


if __name__ == "__main__":
    main()
