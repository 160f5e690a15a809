"""Many sync rounds of three laptops through the misbehaving proxy (drops, cut answers, delays
past the read timeout, 503 + Retry-After, chosen by a seeded rng).  At the end the server holds
exactly the union of the laptops' ops (no loss, no duplicate) and the laptops agree.

Network faults are the client's property: `make test` runs it on SQLite (one process); `make
soak` (RT_SCALE > 1) on SQLite, on PostgreSQL, and on PostgreSQL behind ``roundtable serve
--workers 2`` (two uvicorn processes taking the retried batches in any order).

``ROUNDTABLE_FAULT_ROUNDS`` (default 12) and ``ROUNDTABLE_FAULT_SEED`` (default 7) tune it."""

from __future__ import annotations

import asyncio
import os
import random

import pytest
from budget import count, scale
from test_sync import AGENDA, local_op_ids, replica_state, server_op_ids, sync

from roundtable.store import LocalStore
from roundtable.sync import SyncClient

ROUNDS = count(12, "ROUNDTABLE_FAULT_ROUNDS")
SEED = int(os.environ.get("ROUNDTABLE_FAULT_SEED", "7"))
ENGINES = ["sqlite"] if scale() == 1 else ["sqlite", "postgresql", "postgresql-2-workers"]


@pytest.fixture
def live_server(engine_server):
    return engine_server


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_randomized_faults_lose_nothing_and_duplicate_nothing(live_server, fault_proxy, tmp_path):
    server = live_server
    event_id = server.create_event("Faulty Wi-Fi conference")
    token = server.token(event_id)
    stores = [LocalStore(tmp_path / n) for n in "abc"]
    for s in stores:
        assert sync(s, server.url, token).ok
    sid = stores[0].create_session(event_id, "asia-pacific", "Asia & South Pacific", AGENDA).id
    assert sync(stores[0], server.url, token).ok
    for s in stores[1:]:
        assert sync(s, server.url, token).ok

    fault_proxy.mode = "random"
    fault_proxy.rng = random.Random(SEED)
    fault_proxy.delay = 0.6  # past the clients' read timeout below
    fault_proxy.retry_after = 0
    rng = random.Random(SEED)
    outcomes = {"ok": 0, "error": 0}
    for round_no in range(ROUNDS):
        for n, store in enumerate(stores):
            with store.open_session(sid) as ss:
                for k in range(rng.randint(0, 4)):
                    ss.add_entry("note", f"round {round_no} laptop {n} note {k}")
                if rng.random() < 0.5:
                    ss.set_attendance(rng.choice(["AU", "NZ", "FJ"]),
                                      rng.choice(["present", "absent"]))  # fmt: skip
            client = SyncClient(
                store,
                fault_proxy.url,
                token,
                read_timeout=0.3,
                connect_timeout=0.5,
                round_deadline=rng.choice([0.2, 1.0, 3.0]),  # some rounds give up mid-way
                batch_size=rng.choice([5, 20, 200]),
                rng=random.Random(SEED + round_no),
                backoff_base=0.01,
                backoff_cap=0.05,
            )
            result = asyncio.run(client.sync_once())
            outcomes["ok" if result.ok else "error"] += 1
            assert not result.auth_error
            assert result.rejected == 0, result.summary()

    assert sum(fault_proxy.counts[m] for m in ("drop", "cut", "delay", "503")) > 0
    # the Wi-Fi comes back: everything drains
    fault_proxy.mode = "pass"
    for _ in range(2):
        for s in stores:
            assert sync(s, fault_proxy.url, token).ok
    ids = server_op_ids(server)
    assert len(ids) == len(set(ids))  # no duplicate
    union = set().union(*(local_op_ids(s) for s in stores))
    assert set(ids) == union  # no loss, nothing invented
    assert all(s.pending_count() == 0 for s in stores)
    states = [replica_state(s) for s in stores]
    assert states[1] == states[0] and states[2] == states[0]
