"""kill -9 of a writer of an *encrypted* session at random moments: each journal line is sealed
on its own inside its checksummed line, so the store still always opens and keeps every
acknowledged entry, and a crash leaves nothing readable.  RT_CRASH_ENC_TRIALS sets the count
(fewer than the plain trials of test_crash.py: each process derives the key, ~0.1 s)."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from budget import count
from test_crash import _run_and_kill, writer_server

from roundtable.store import LocalStore

TRIALS = count(40, "RT_CRASH_ENC_TRIALS")  # in all, split between the two modes
PASS = "kill -9 passphrase"


@pytest.fixture(scope="module")
def writer() -> Iterator[subprocess.Popen]:
    """The crash test's fork server, its writers unlocking with ROUNDTABLE_PASSPHRASE."""
    yield from writer_server(ROUNDTABLE_PASSPHRASE=PASS)


@pytest.mark.slow
@pytest.mark.parametrize("every", [3, 200], ids=["checkpoint-every-3", "checkpoint-every-200"])
def test_kill_9_never_loses_an_acknowledged_encrypted_entry(
    tmp_path: Path, every: int, writer: subprocess.Popen
) -> None:
    rng = random.Random(1000 + every)
    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Crash")
    session_id = store.create_session(event.id, "europe", "Crash Wrenfield", [], passphrase=PASS).id
    acknowledged: list[str] = []
    for _trial in range(max(1, TRIALS // 2)):
        acknowledged += _run_and_kill(
            writer, home, session_id, every, rng.uniform(0.05, 0.25), tmp_path / "acked.txt"
        )
        reader = LocalStore(home)
        reader.unlock(session_id, PASS)
        with reader.open_session(session_id) as ss:  # opens: never unreadable
            stored = {e.id for e in ss.records("entry")}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"{len(missing)} acknowledged entries lost"
    assert len(acknowledged) > TRIALS // 2  # the trials did write
    unit = home / "sessions" / session_id
    assert list(unit.glob("*.corrupt-*")) == []
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Crash trial note" not in data and b"Wrenfield" not in data, path
