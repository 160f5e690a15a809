"""A writer that dies mid-capture: the store always opens, and every acknowledged entry (its id
written out after `add_entry` returned) is there, nothing else.

Two ways: a crash at each step of the captures and checkpoints in turn (tests/killpoints.py:
every write, flush, rename and directory flush, a torn write at each write), the same on every
run; and a small set of real kill -9 at random moments (RT_CRASH_TRIALS; `make soak` runs 200
per scale unit).  tests/test_crash_encrypted.py runs both on an encrypted session."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from budget import count
from killpoints import Outcome, every_kill_point

from roundtable.store import LocalStore

TRIALS = count(40, "RT_CRASH_TRIALS", soak=200)  # in all, split between the two modes
WRITER = Path(__file__).with_name("_writer_crash.py")
SESSION_TRIALS = 25  # trials on one session before the next one starts (one test each)


@pytest.fixture(scope="module")
def writer() -> Iterator[subprocess.Popen]:
    """The fork server of the writers (tests/_writer_crash.py), one per module and worker."""
    yield from writer_server()


def writer_server(**env_vars: str) -> Iterator[subprocess.Popen]:
    """Start the fork server with ``env_vars`` added to its environment; stop it after."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), **env_vars)
    proc = subprocess.Popen(
        [sys.executable, str(WRITER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(30)


def _run_and_kill(
    writer: subprocess.Popen, home: Path, session_id: str, every: int, delay: float, out: Path
) -> list[str]:
    """One trial: a writer adds entries for ``delay`` seconds after it opened the session, then
    is killed with SIGKILL; returns the ids it acknowledged."""
    assert writer.stdin is not None and writer.stdout is not None
    writer.stdin.write(f"{home}\t{session_id}\t{every}\t{out}\n")
    writer.stdin.flush()
    first = writer.stdout.readline()
    assert first.strip() == "ready", first  # the writer's traceback is on stderr
    time.sleep(delay)
    writer.stdin.write("kill\n")
    writer.stdin.flush()
    assert writer.stdout.readline().strip() == "killed"
    return [line for line in out.read_text(encoding="ascii").splitlines() if len(line) == 36]


CHUNKS = [
    (every, chunk)
    for every in (3, 200)
    for chunk in range(max(1, -(-(TRIALS // 2) // SESSION_TRIALS)))
]
"""Each mode's trials in chunks of SESSION_TRIALS, one session (and one test) each, so that
pytest-xdist spreads them over the workers; together they are TRIALS trials."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("every", "chunk"), CHUNKS, ids=[f"checkpoint-every-{e}-part-{c + 1}" for e, c in CHUNKS]
)
def test_kill_9_never_loses_an_acknowledged_entry(
    writer: subprocess.Popen, tmp_path: Path, every: int, chunk: int
) -> None:
    # a fresh session for each chunk: every open reads the whole journal, so one session for
    # all trials made the run grow with the square of RT_SCALE
    rng = random.Random(every * 1000 + chunk)
    trials = min(SESSION_TRIALS, max(1, TRIALS // 2) - chunk * SESSION_TRIALS)
    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Crash")
    session_id = store.create_session(event.id, "europe", f"Crash {chunk}", []).id
    acknowledged: list[str] = []
    for _ in range(trials):
        written = _run_and_kill(
            writer, home, session_id, every, rng.uniform(0.0, 0.15), tmp_path / "acknowledged"
        )
        acknowledged += written
        with LocalStore(home).open_session(session_id) as ss:  # opens: never unreadable
            stored = {e.id for e in ss.records("entry")}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"{len(missing)} acknowledged entries lost"
    assert len(acknowledged) > trials  # the trials did write
    corrupt = list((home / "sessions" / session_id).glob("*.corrupt-*"))
    assert corrupt == []


def kill_point_trials(tmp_path: Path, passphrase: str | None = None) -> list[Outcome]:
    """A session with two entries, then a writer that opens it and adds five (a checkpoint
    every three changes, and one on close), killed at its first, second, ... disk step until it
    completes.  After each kill the session opens for writing, holds every acknowledged entry
    and nothing but the base and the attempted ones, and nothing was moved aside as corrupt."""
    base, home = tmp_path / "base", tmp_path / "home"
    store = LocalStore(base)
    event = store.create_event("Crash")
    sid = store.create_session(event.id, "europe", "Kill points", [], passphrase=passphrase).id

    def opened(where: Path, every: int = 200) -> LocalStore:
        s = LocalStore(where, checkpoint_every=every)
        if passphrase is not None:
            s.unlock(sid, passphrase)
        return s

    with opened(base).open_session(sid) as ss:
        before = {ss.add_entry("note", f"Base note {n}").id for n in range(2)}

    def reset() -> None:
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(base, home)

    def work(ack) -> None:
        with opened(home, every=3).open_session(sid) as ss:
            for n in range(5):
                ack(ss.add_entry("note", f"Kill point note {n}").id)

    def check(outcome: Outcome) -> None:
        with opened(home).open_session(sid) as ss:  # opens for writing: never unreadable
            entries = ss.records("entry")
        stored = {e.id for e in entries}
        assert before | set(outcome.acked) <= stored, f"an acknowledged entry lost at {outcome}"
        assert len(stored) <= len(before) + 5, outcome
        assert {e.text for e in entries if e.id not in before} <= {
            f"Kill point note {n}" for n in range(5)
        }, outcome
        assert list((home / "sessions" / sid).glob("*.corrupt-*")) == [], outcome

    outcomes = every_kill_point(work, check, reset)
    steps = [o.step for o in outcomes if o.killed]
    assert len(outcomes[-1].acked) == 5 and len(steps) > 20, steps
    assert any("torn" in s for s in steps) and any("fsync" in s for s in steps), steps
    assert any(s.startswith("replace") and s.endswith(" view.json") for s in steps), steps
    return outcomes


@pytest.mark.slow
def test_a_crash_at_every_step_of_captures_and_checkpoints_loses_nothing(tmp_path: Path) -> None:
    kill_point_trials(tmp_path)
