"""kill -9 of a writer at random moments: the store always opens, and every acknowledged entry
(its id written out after `add_entry` returned) is there.  RT_CRASH_TRIALS sets the trial count."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from budget import count

from roundtable.store import LocalStore

TRIALS = count(200, "RT_CRASH_TRIALS")  # in all, split between the two modes
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
