"""kill -9 of a writer at random moments: the store always opens, and every acknowledged entry
(its id printed after `add_entry` returned) is there.  RT_CRASH_TRIALS sets the trial count."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from budget import count

from roundtable.store import LocalStore

TRIALS = count(200, "RT_CRASH_TRIALS")  # in all, split between the two modes
WRITER = Path(__file__).with_name("_writer_crash.py")
SESSION_TRIALS = 25  # trials on one session before the next one starts (one test each)


def _run_and_kill(home: Path, session_id: str, every: int, delay: float) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(home), session_id, str(every)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.strip() == "ready", proc.stderr.read() if proc.stderr else first
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    return [line for line in out.splitlines() if len(line) == 36]


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
def test_kill_9_never_loses_an_acknowledged_entry(tmp_path: Path, every: int, chunk: int) -> None:
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
        written = _run_and_kill(home, session_id, every, rng.uniform(0.0, 0.15))
        acknowledged += written
        with LocalStore(home).open_session(session_id) as ss:  # opens: never unreadable
            stored = {e.id for e in ss.records("entry")}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"{len(missing)} acknowledged entries lost"
    assert len(acknowledged) > trials  # the trials did write
    corrupt = list((home / "sessions" / session_id).glob("*.corrupt-*"))
    assert corrupt == []
