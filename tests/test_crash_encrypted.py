"""A writer of an *encrypted* session that dies mid-capture: each journal line is sealed on its
own inside its checksummed line, so the store still always opens and keeps every acknowledged
entry, and a crash leaves nothing readable.  Two ways, as in test_crash.py: a crash at each
disk step in turn, and a small set of real kill -9 at random moments (RT_CRASH_ENC_TRIALS).

The key's cost: these tests re-prove the journal's crash logic, not scrypt, so in `make test`
the sessions here are created with a cheap scrypt cost (conftest's ``_test_scrypt_cost``: 2**10
instead of 2**15).  That is a test-only parameter: the test sets ``crypto.SCRYPT_N`` in its own
process, there is no setting, variable or option an installed laptop reads for it (see
``test_an_installed_laptop_creates_sessions_at_the_production_cost``), and unlocking reads the
cost a session was created with from its ``crypto.json``.  `make soak` (RT_SCALE > 1) runs the
trials at the production cost."""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from budget import count
from test_crash import _run_and_kill, kill_point_trials, writer_server

from roundtable.store import LocalStore, crypto

TRIALS = count(12, "RT_CRASH_ENC_TRIALS", soak=40)  # in all, split between the two modes
PASS = "kill -9 passphrase"


@pytest.fixture
def cheap_scrypt() -> int:
    """The cost at which this test's sessions derive their key (conftest's test-only cost in
    `make test`, production's at `make soak`)."""
    return crypto.SCRYPT_N


def created_cost(home: Path, session_id: str) -> int:
    header = json.loads((home / "sessions" / session_id / crypto.CRYPTO_NAME).read_bytes())
    return header["n"]


@pytest.mark.production_scrypt
def test_an_installed_laptop_creates_sessions_at_the_production_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the test's own patch, a session is created at 2**15 whatever the environment
    says, and its crypto.json records that cost."""
    for name in ("RT_SCALE", "ROUNDTABLE_SCRYPT_N", "SCRYPT_N", "RT_SCRYPT_N"):
        monkeypatch.setenv(name, "1024")
    from roundtable import cli

    monkeypatch.setenv("ROUNDTABLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROUNDTABLE_PASSPHRASE", PASS)
    store = LocalStore(tmp_path / "home")
    event = store.create_event("Cost")
    sid = store.create_session(event.id, "europe", "Cost", [], passphrase=PASS).id
    assert crypto.SCRYPT_N == 2**15 and created_cost(tmp_path / "home", sid) == 2**15
    assert cli.main(["new", "--region", "africa", "--encrypt"]) == 0
    costs = [
        json.loads(p.read_bytes())["n"]
        for p in (tmp_path / "home" / "sessions").glob(f"*/{crypto.CRYPTO_NAME}")
    ]
    assert costs == [2**15, 2**15]


@pytest.mark.slow
def test_a_crash_at_every_step_of_encrypted_captures_loses_nothing(
    tmp_path: Path, cheap_scrypt: int
) -> None:
    outcomes = kill_point_trials(tmp_path, passphrase=PASS)
    assert outcomes and len(outcomes[-1].acked) == 5
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert b"Kill point note" not in path.read_bytes(), path


@pytest.fixture(scope="module")
def writer() -> Iterator[subprocess.Popen]:
    """The crash test's fork server, its writers unlocking with ROUNDTABLE_PASSPHRASE."""
    yield from writer_server(ROUNDTABLE_PASSPHRASE=PASS)


@pytest.mark.slow
@pytest.mark.parametrize("every", [3, 200], ids=["checkpoint-every-3", "checkpoint-every-200"])
def test_kill_9_never_loses_an_acknowledged_encrypted_entry(
    tmp_path: Path, every: int, writer: subprocess.Popen, cheap_scrypt: int
) -> None:
    rng = random.Random(1000 + every)
    home = tmp_path / "home"
    store = LocalStore(home)
    event = store.create_event("Crash")
    session_id = store.create_session(event.id, "europe", "Crash Wrenfield", [], passphrase=PASS).id
    assert created_cost(home, session_id) == cheap_scrypt
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
