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

First (issue 22), when tmux is installed: the same start-ups in a real terminal, as a
facilitator waits for them -- each started in a tmux session of 120x40 and timed until
``tmux capture-pane`` first shows the screen's own marker text (the session list's title; the
run screen's "Captured —" heading; the bare app's one table row), polled every 10 ms, median of
``--runs``, beside a bare Textual app (Header, a one-row DataTable, Footer) measured the same way
in the same run.  ``--terminal-only`` runs just that.

``--instructions`` counts instead the instructions each of those cases executes, headless, from
process start to its first screen (valgrind's callgrind): on a shared machine the times move
with the load by tens of percent, the counts by well under 1 %.
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


# -- in a real terminal (issue 22): tmux 120x40, until the screen shows its marker ---------------

BARE_TABLE = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import DataTable, Footer, Header

    class Bare(App):
        def compose(self):
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_columns("Event", "Session")
            table.add_row("Bare marker row", "one row")

    Bare().run()
    """
)
POLL = 0.010
"""Seconds between two looks at the terminal (``tmux capture-pane``)."""
TERMINAL_TIMEOUT = 60.0


def _terminal_once(command: list[str], marker: str, env: dict[str, str]) -> float:
    """Seconds from starting ``command`` in a new tmux session of 120x40 until the pane first
    shows ``marker`` (polled every 10 ms); the session is killed after."""
    import shlex

    name = f"rt-bench-{os.getpid()}-{time.monotonic_ns()}"
    # `env -u`: the tmux server passes on the environment it was started in, and some sandboxes
    # set PYTHONDONTWRITEBYTECODE there; with it, every start compiled every module of the app
    # again (~0.1 s), which a laptop does once (pip compiles them at install)
    line = " ".join(
        [
            "-u PYTHONDONTWRITEBYTECODE",
            *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
            *map(shlex.quote, command),
        ]
    )
    t0 = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", f"env {line}"],
        check=True,
    )
    try:
        while True:
            shown = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
            ).stdout
            if marker in shown:
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > TERMINAL_TIMEOUT:
                raise RuntimeError(f"{marker!r} never showed; the pane held:\n{shown}")
            time.sleep(POLL)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def terminal(
    runs: int, homes: dict[str, tuple[Path, str]]
) -> list[tuple[str, float, float, float]]:
    """The issue's harness: each case started in tmux 120x40, timed until its own marker text
    is on screen; the cases take turns within each of ``runs`` rounds (a load peak on this
    shared machine then falls on every case alike); medians, minimum, maximum."""
    python = sys.executable
    base = {"PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}

    def home_env(home: Path) -> dict[str, str]:
        return base | {
            "ROUNDTABLE_HOME": str(home),
            "ROUNDTABLE_CONFIG": str(home / "settings.toml"),
        }

    demo_home, demo_sid = homes["demo"]
    big_home, big_sid = homes["big"]
    app = [python, "-m", "roundtable"]
    cases = [
        ("bare Textual app (Header, one-row DataTable, Footer)",
         [python, "-c", BARE_TABLE], "Bare marker row", base),
        ("`roundtable`: the session list, demo event",
         app, "Sessions on this laptop", home_env(demo_home)),
        ("`roundtable`: the session list, 5,000-entry event",
         app, "Sessions on this laptop", home_env(big_home)),
        ("`roundtable --session`: run screen, demo",
         [*app, "--session", demo_sid], "Captured —", home_env(demo_home)),
        ("`roundtable --session`: run screen, 5,000 entries",
         [*app, "--session", big_sid], "Captured —", home_env(big_home)),
    ]  # fmt: skip
    # One idle session keeps the tmux server up between the timed ones: when the last session
    # is killed the server exits, and a session started at that moment fails ("server exited
    # unexpectedly").
    keeper = f"rt-bench-keep-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", keeper, "sleep 3600"], check=True)
    try:
        for _name, command, marker, env in cases:  # warm the caches, as on a laptop
            _terminal_once(command, marker, env)
        times: dict[str, list[float]] = {name: [] for name, *_ in cases}
        for _ in range(runs):
            for name, command, marker, env in cases:
                times[name].append(_terminal_once(command, marker, env))
    finally:
        subprocess.run(["tmux", "kill-session", "-t", keeper], capture_output=True)
    return [(n, statistics.median(t), min(t), max(t)) for n, t in times.items()]


# -- instructions (a figure the machine's load does not move) -----------------------------------

HEADLESS_CLI = textwrap.dedent(
    """
    import sys
    import textual.app

    run = textual.app.App.run

    def headless(self, **kwargs):
        async def first_screen(pilot):
            await pilot.pause()
            pilot.app.exit()

        return run(self, headless=True, size=(120, 40), auto_pilot=first_screen)

    textual.app.App.run = headless
    if sys.argv[1] == "bare":
        exec(sys.argv[2])
    else:
        from roundtable.cli import main

        sys.exit(main(sys.argv[2:]))
    """
)


def _instructions(args: list[str], env: dict[str, str]) -> int:
    """Instructions executed by a whole process (valgrind's callgrind), from its start until
    its first screen is up (headless 120x40) and it quits."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", HEADLESS_CLI, *args],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    raise RuntimeError(f"valgrind reported no count:\n{out.stderr[-2000:]}")


def instructions(homes: dict[str, tuple[Path, str]]) -> list[tuple[str, int]]:
    """The cases of the terminal harness, each counted once (after a run that compiles the
    bytecode); the bare app is the same Header, one-row DataTable and Footer."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}

    def home_env(home: Path) -> dict[str, str]:
        return env | {
            "ROUNDTABLE_HOME": str(home),
            "ROUNDTABLE_CONFIG": str(home / "settings.toml"),
        }

    bare = BARE_TABLE.replace("Bare().run()", "Bare().run(headless=True)")
    (demo_home, demo_sid), (big_home, big_sid) = homes["demo"], homes["big"]
    cases = [
        ("bare Textual app (Header, one-row DataTable, Footer)", ["bare", bare], env),
        ("`roundtable`: the session list, demo event", ["app"], home_env(demo_home)),
        ("`roundtable`: the session list, 5,000-entry event", ["app"], home_env(big_home)),
        ("`roundtable --session`: run screen, demo",
         ["app", "--session", demo_sid], home_env(demo_home)),
        ("`roundtable --session`: run screen, 5,000 entries",
         ["app", "--session", big_sid], home_env(big_home)),
    ]  # fmt: skip
    found = []
    for name, argv, case_env in cases:
        subprocess.run([sys.executable, "-c", HEADLESS_CLI, *argv], env=case_env, check=True)
        found.append((name, _instructions(argv, case_env)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--terminal-only",
        action="store_true",
        help="only the tmux harness (start-up until the screen shows in a real terminal)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="only the instructions each case executes to its first screen (valgrind), a "
        "figure that a shared machine's load does not move",
    )
    args = parser.parse_args()
    import shutil

    if args.instructions:
        with tempfile.TemporaryDirectory() as tmp:
            homes = {"demo": _make_home(Path(tmp), 0), "big": _make_home(Path(tmp), 5000)}
            counted = instructions(homes)
        print("instructions to the first screen (valgrind --tool=callgrind, headless 120x40)\n")
        print("| case | instructions | ratio to bare |")
        print("|---|---:|---:|")
        for name, count in counted:
            print(f"| {name} | {count / 1e6:,.0f} M | {count / counted[0][1]:.2f}x |")
        return
    if args.terminal_only or shutil.which("tmux"):
        with tempfile.TemporaryDirectory() as tmp:
            homes = {
                "demo": _make_home(Path(tmp), 0),
                "big": _make_home(Path(tmp), 5000),
            }
            found = terminal(args.runs, homes)
        bare_t = found[0][1]
        from _figures import record

        record(
            "startup_terminal",
            bare_s=bare_t,
            demo_home_s=found[1][1],
            big_home_s=found[2][1],
            demo_s=found[3][1],
            big_s=found[4][1],
            runs=args.runs,
        )
        print(
            f"start-up in a real terminal: tmux 120x40, from process start until "
            f"`capture-pane` first shows the screen's marker text (polled every "
            f"{POLL * 1000:.0f} ms), median of {args.runs}, cases taking turns\n"
        )
        print("| case | median s | min s | max s | ratio to bare | target |")
        print("|---|---:|---:|---:|---:|---|")
        targets = {1: 1.3, 2: 1.3, 4: 1.5}
        for n, (name, med, lo, hi) in enumerate(found):
            target = f"≤ {targets[n]}x" if n in targets else ""
            print(f"| {name} | {med:.3f} | {lo:.3f} | {hi:.3f} | {med / bare_t:.2f}x | {target} |")
        print()
        if args.terminal_only:
            return
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
