"""The pull rule under concurrent pushes (issue 25, finding 3): many pushers write one event at
once, each push holding its transaction open for a random while before committing (so commits
land out of the order their rows were numbered in), some batches sent twice with the same key
and some ops sent again under a new key; meanwhile pullers page through the event with random
page sizes from their own cursors.  Every puller must receive every stored op exactly once.
On both engines: SQLite (one writer) and PostgreSQL (pushes in parallel, the xid horizon rule:
``roundtable/secretariat/repository.py``).  Seeded: a failure names its seed."""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path

import pytest

from roundtable.model import Entry, HlcClock, Op, Session, new_id
from roundtable.protocol import push_body
from roundtable.secretariat import create_event, issue_token
from roundtable.secretariat.repository import Database, open_database
from roundtable.secretariat.service import push

PUSHERS = 8
PUSHES_EACH = 10
PULLERS = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    if request.param == "sqlite":
        return tmp_path / "secretariat.db"
    return request.getfixturevalue("pg_cluster").new_database()


def _ops(event_id: str, device: str, rng: random.Random) -> list[list[Op]]:
    """One session's ops in batches: the session first (its region with it), then entries."""
    clock = HlcClock(device)
    region = "africa" if int(device.removeprefix("lap")) % 2 else "europe"
    session = Session(id=new_id(), event_id=event_id, region=region, title=f"Room {device}")

    def ops_of(rec) -> list[Op]:
        out = []
        for name, value in rec.to_fields().items():
            h = clock.now()
            out.append(
                Op(
                    new_id(),
                    event_id,
                    session.id,
                    rec.id,
                    rec.KIND,
                    name,
                    value,
                    h.encode(),
                    h.device,
                )  # fmt: skip
            )
        return out

    batches = [ops_of(session)]
    for _ in range(PUSHES_EACH - 1):
        batch: list[Op] = []
        for _ in range(rng.randint(1, 6)):
            text = f"need {rng.random():.6f}"
            batch += ops_of(Entry(id=new_id(), session_id=session.id, entry_kind="need", text=text))
        batches.append(batch)
    return batches


def _slow_commits(repo, rng: random.Random, lock: threading.Lock) -> None:
    """Hold each push's transaction open a random while after its rows are written."""
    save = repo.save_answer

    def slow_save(*args):
        with lock:
            pause = rng.random() * 0.03
        time.sleep(pause)
        return save(*args)

    repo.save_answer = slow_save


@pytest.mark.parametrize("seed", [1, 2])
def test_every_puller_receives_every_op_exactly_once(target, seed: int) -> None:
    event_id = create_event(target, "Conference")
    token = issue_token(target, event_id, ["*"])
    database: Database = open_database(target, pool_size=PUSHERS + PULLERS + 2)
    database.migrate()
    rng = random.Random(seed)
    rng_lock = threading.Lock()
    africa_token = issue_token(target, event_id, ["africa"])
    with database.repository() as repo:
        scope = repo.lookup_token(token)
        africa = repo.lookup_token(africa_token)
    assert scope is not None and africa is not None
    # the first two pullers read with a token of one region: its pages merge that region's rows
    # and the event's own (``Repository._page_rows``)
    scopes = [africa if j < 2 else scope for j in range(PULLERS)]
    plans = [_ops(event_id, f"lap{i}", random.Random(seed * 100 + i)) for i in range(PUSHERS)]
    pushed: set[str] = {o.op_id for batches in plans for b in batches for o in b}
    errors: list[str] = []
    pushing = threading.Event()
    pushing.set()

    def pusher(i: int) -> None:
        local = random.Random(seed * 1000 + i)
        try:
            for batch in plans[i]:
                key = str(uuid.uuid4())
                body = push_body(batch, f"lap{i}")
                tries = 2 if local.random() < 0.2 else 1  # a retried batch: same key
                for _ in range(tries):
                    with database.repository() as repo:
                        _slow_commits(repo, rng, rng_lock)
                        push(repo, scope, event_id, key, body, key, time.time())
                if local.random() < 0.2:  # sent again in a later round: a new key
                    again = batch[: local.randint(1, len(batch))]
                    with database.repository() as repo:
                        push(repo, scope, event_id, str(uuid.uuid4()),
                             push_body(again, f"lap{i}"), "again", time.time())  # fmt: skip
        except Exception as exc:  # reported below with the seed
            errors.append(f"pusher {i}: {exc!r}")

    received: list[list[str]] = [[] for _ in range(PULLERS)]

    def puller(j: int) -> None:
        local = random.Random(seed * 7 + j)
        cursor = 0
        try:
            while True:
                still_pushing = pushing.is_set()
                with database.repository() as repo:
                    ops, cursor, more = repo.pull_page(
                        event_id, cursor, local.randint(1, 40), scopes[j]
                    )
                received[j] += [o["op_id"] for o in ops]
                if not still_pushing and not more and not ops:
                    return  # everything pushed was committed before this last, empty page
                if not ops:
                    time.sleep(0.002)
        except Exception as exc:
            errors.append(f"puller {j}: {exc!r}")

    pushers = [threading.Thread(target=pusher, args=(i,)) for i in range(PUSHERS)]
    pullers = [threading.Thread(target=puller, args=(j,)) for j in range(PULLERS)]
    for t in (*pullers, *pushers):
        t.start()
    for t in pushers:
        t.join(120)
    pushing.clear()
    for t in pullers:
        t.join(120)
    database.close()
    assert not errors, f"seed {seed}: {errors[:3]}"

    with open_database(target, pooled=False) as check, check.repository() as repo:
        rows = repo._rows(
            "SELECT o.op_id, s.region FROM ops o LEFT JOIN sessions s "
            "ON s.session_id = o.session_id WHERE o.event_id = ?",
            (event_id,),
        )
    stored = {r[0] for r in rows}
    in_africa = {r[0] for r in rows if r[1] in (None, "africa")}  # None: the event's own
    assert pushed <= stored and in_africa and in_africa != stored
    for j, got in enumerate(received):
        wanted = in_africa if j < 2 else stored
        dupes = len(got) - len(set(got))
        missing = wanted - set(got)
        assert dupes == 0, f"seed {seed}: puller {j} received {dupes} ops twice"
        assert not missing, f"seed {seed}: puller {j} never received {len(missing)} ops"
        assert set(got) == wanted


def test_pushes_to_one_event_proceed_in_parallel_on_postgresql(pg_cluster) -> None:
    """A push whose transaction is still open does not hold up another push to the same event
    (before issue 25 the second waited on the event's row lock until the first committed), and
    the second's ops are pullable only once the first has ended (the horizon)."""
    url = pg_cluster.new_database()
    event_id = create_event(url, "Conference")
    token = issue_token(url, event_id, ["*"])
    database = open_database(url, pool_size=4)
    with database.repository() as repo:
        scope = repo.lookup_token(token)
    first, second = (_ops(event_id, f"lap{i}", random.Random(i))[0] for i in (1, 2))
    release = threading.Event()
    holding = threading.Event()
    outcome: list[str] = []

    def slow() -> None:
        with database.repository() as repo:
            save = repo.save_answer

            def held(*args):
                holding.set()
                release.wait(20)
                return save(*args)

            repo.save_answer = held
            push(repo, scope, event_id, "k1", push_body(first, "lap1"), "k1", time.time())
        outcome.append("first committed")

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert holding.wait(20)
        with database.repository() as repo:
            push(repo, scope, event_id, "k2", push_body(second, "lap2"), "k2", time.time())
        outcome.append("second committed")
        with database.repository() as repo:
            held_back = repo.pull_page(event_id, 0, 1000, scope)[0]
    finally:
        release.set()
        thread.join(30)
    assert outcome == ["second committed", "first committed"]
    # while the first was open, the second's rows (numbered after it) were not yet pullable
    assert not {o["op_id"] for o in held_back} & {o.op_id for o in second}
    with database.repository() as repo:
        pulled = {o["op_id"] for o in repo.pull_page(event_id, 0, 1000, scope)[0]}
    database.close()
    assert {o.op_id for o in first + second} <= pulled
