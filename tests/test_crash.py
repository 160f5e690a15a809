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
SESSION_TRIALS = 25  # trials on one session before the next one starts


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


@pytest.mark.parametrize("every", [3, 200], ids=["checkpoint-every-3", "checkpoint-every-200"])
def test_kill_9_never_loses_an_acknowledged_entry(tmp_path: Path, every: int) -> None:
    rng = random.Random(every)
    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Crash")
    sessions: list[str] = []
    acknowledged: list[str] = []
    total = 0
    for trial in range(max(1, TRIALS // 2)):
        if trial % SESSION_TRIALS == 0:
            # a fresh session now and then: every open reads the whole journal, so one session
            # for all trials made the run grow with the square of RT_SCALE
            sessions.append(store.create_session(event.id, "europe", f"Crash {trial}", []).id)
            acknowledged = []
        session_id = sessions[-1]
        written = _run_and_kill(home, session_id, every, rng.uniform(0.0, 0.15))
        acknowledged += written
        total += len(written)
        with LocalStore(home).open_session(session_id) as ss:  # opens: never unreadable
            stored = {e.id for e in ss.records("entry")}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"{len(missing)} acknowledged entries lost"
    assert total > TRIALS // 2  # the trials did write
    for session_id in sessions:
        corrupt = list((home / "sessions" / session_id).glob("*.corrupt-*"))
        assert corrupt == []
