"""SyncClient against a real uvicorn on 127.0.0.1: convergence of two and three laptops in
every sync order, long offline periods, lost answers, rejected batches, auth errors, and the
backoff arithmetic (the one place where a seeded rng and a recording sleep stand in)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from pathlib import Path

import pytest
from fixtures_server import LiveServer

from roundtable.store import LocalStore
from roundtable.store.journal import decode_line
from roundtable.sync import (
    REJECTED_FILE,
    SyncClient,
    SyncState,
    backoff_delay,
    batch_key,
    parse_retry_after,
)

AGENDA = [{"title": "Opening", "item_kind": "opening"}, {"title": "Needs", "item_kind": "needs"}]


def fast_client(store: LocalStore, url: str, token: str, **kw) -> SyncClient:
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("backoff_cap", 0.05)
    kw.setdefault("read_timeout", 5.0)
    return SyncClient(store, url, token, **kw)


def sync(store: LocalStore, url: str, token: str, **kw):
    return asyncio.run(fast_client(store, url, token, **kw).sync_once())


def replica_state(store: LocalStore) -> dict:
    """Every record of every unit, as merged: fields, heads, and the set of replaced versions
    (its list order is arrival order, which may differ between laptops)."""
    out = {}
    for event_id, session_id, path in store.units():
        unit, opened = store.with_unit(path)
        try:
            for key in list(unit.docs):
                doc = unit.doc(*key)
                out[(session_id or event_id, *key)] = (
                    json.dumps(doc["fields"], sort_keys=True),
                    json.dumps(doc["heads"], sort_keys=True),
                    {f: sorted(v) for f, v in doc["replaced"].items()},
                )
        finally:
            store.release(unit, opened)
    return out


def local_op_ids(store: LocalStore) -> set[str]:
    """Op ids this laptop wrote itself (from its journals)."""
    ids = set()
    for base in ("events", "sessions"):
        for journal in sorted((store.home / base).glob("*/journal.jsonl")):
            for line in journal.read_bytes().splitlines():
                data = decode_line(line)
                if data.get("t") not in ("remote", "ack"):
                    ids.update(o["op_id"] for o in data.get("ops", []))
    return ids


def server_op_ids(server: LiveServer) -> list[str]:
    return [r[0] for r in server.query("SELECT op_id FROM ops WHERE device != 'secretariat'")]


@pytest.fixture
def event(live_server: LiveServer):
    event_id = live_server.create_event("Conference 2026")
    return event_id, live_server.token(event_id, ["*"])


def start_session(server: LiveServer, token: str, event_id: str, homes: list[Path]):
    """The first laptop creates a session; every laptop connects and pulls it."""
    stores = [LocalStore(h) for h in homes]
    for s in stores:
        assert sync(s, server.url, token).ok
    session = stores[0].create_session(event_id, "europe", "Europe round table", AGENDA)
    assert sync(stores[0], server.url, token).pushed > 0
    for s in stores[1:]:
        assert sync(s, server.url, token).pulled > 0
    return stores, session.id


def offline_edits(stores: list[LocalStore], session_id: str, shared_entry: str) -> None:
    """Each laptop adds its own entries, edits the same field, and marks the same delegation."""
    statuses = ["present", "apologies", "absent"]
    for n, store in enumerate(stores):
        with store.open_session(session_id) as ss:
            ss.add_entry("need", f"Training need from laptop {n}", delegations=["FR"])
            ss.update("entry", shared_entry, text=f"Shared text as laptop {n} wrote it")
            ss.set_attendance("DE", statuses[n % 3])
            if n == 1:
                ss.add_entry("action", "Share the watch list", owner="DE", due="2026-12-15")


@pytest.mark.parametrize("order", list(itertools.permutations(range(2))))
def test_two_laptops_converge_in_every_order(live_server, event, tmp_path, order):
    converge(live_server, event, [tmp_path / "a", tmp_path / "b"], order)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_three_laptops_converge_in_every_order(live_server, event, tmp_path, order):
    converge(live_server, event, [tmp_path / n for n in "abc"], order)


def converge(server: LiveServer, event, homes: list[Path], order) -> None:
    event_id, token = event
    stores, sid = start_session(server, token, event_id, homes)
    with stores[0].open_session(sid) as ss:
        shared = ss.add_entry("issue", "Drug routes via ports", delegations=["FR"]).id
    sync(stores[0], server.url, token)
    for s in stores[1:]:
        sync(s, server.url, token)
    offline_edits(stores, sid, shared)
    for _ in range(2):  # first round: each pushes; second: each pulls what came after it
        for i in order:
            result = sync(stores[i], server.url, token)
            assert result.ok, result.summary()
    states = [replica_state(s) for s in stores]
    assert all(st == states[0] for st in states[1:])
    with stores[0].open_session(sid, read_only=True) as ss:
        heads = ss.doc("entry", shared)["heads"]["text"]
    assert len(heads) == len(stores)  # concurrent edits: every version shown, none lost
    union = set().union(*(local_op_ids(s) for s in stores))
    on_server = server_op_ids(server)
    assert sorted(on_server) == sorted(union)
    assert all(s.pending_count() == 0 for s in stores)


def test_a_long_offline_laptop_loses_nothing(live_server, event, tmp_path):
    server, (event_id, token) = live_server, event
    a, b = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")
    assert sync(a, server.url, token).ok and sync(b, server.url, token).ok
    sid = a.create_session(event_id, "africa", "Africa round table", AGENDA).id
    with a.open_session(sid) as ss:
        for n in range(400):
            ss.add_entry("note", f"note {n}", delegations=["GH"])
    pending = a.pending_count()
    assert pending > 400 * 3
    result = sync(a, server.url, token, batch_size=200)
    assert result.ok and result.pushed == pending and result.duplicates == 0
    assert a.pending_count() == 0
    assert sorted(server_op_ids(server)) == sorted(local_op_ids(a))
    pulled = sync(b, server.url, token)
    assert pulled.ok and pulled.pulled == pending
    with b.open_session(sid, read_only=True) as ss:
        assert len(ss.records("entry")) == 400
    cursor = SyncState(b.home, server.url).cursor(event_id)
    assert cursor == server.query("SELECT MAX(seq) FROM ops")[0][0]
    assert sync(b, server.url, token).pulled == 0  # the saved cursor: nothing twice


def _one_need_to_push(
    server: LiveServer, event_id: str, token: str, home: Path
) -> tuple[LocalStore, str, int]:
    """A laptop at ``home`` that has synced once, then captured one need in a new session:
    its store, the session's id and how many ops it has to push."""
    a = LocalStore(home)
    assert sync(a, server.url, token).ok
    sid = a.create_session(event_id, "mena", "MENA round table", AGENDA).id
    with a.open_session(sid) as ss:
        ss.add_entry("need", "Database access", delegations=["JO"])
    return a, sid, a.pending_count()


def test_a_batch_resent_after_a_lost_answer_is_stored_once(live_server, event, fault_proxy,
                                                           tmp_path):  # fmt: skip
    server, (event_id, token) = live_server, event
    a, _sid, pending = _one_need_to_push(server, event_id, token, tmp_path / "a")
    fault_proxy.script = ["pass", "cut"]  # whoami passes; the push's answer is cut
    result = sync(a, fault_proxy.url, token)
    assert result.ok, result.summary()
    assert fault_proxy.counts["cut"] == 1
    # the retry carried the same key: the server replayed its answer, nothing twice
    assert result.pushed == pending and result.duplicates == 0
    assert len(server_op_ids(server)) == pending == len(set(server_op_ids(server)))
    assert server.query("SELECT COUNT(*) FROM idempotency") == [(1,)]
    assert a.pending_count() == 0


def test_a_refused_batch_is_kept_aside_and_does_not_block(live_server, event, tmp_path):
    server, (event_id, _) = live_server, event
    europe = server.token(event_id, ["europe"])
    a = LocalStore(tmp_path / "a")
    assert sync(a, server.url, europe).ok
    wrong = a.create_session(event_id, "africa", "Not our region", AGENDA).id
    right = a.create_session(event_id, "europe", "Europe round table", AGENDA).id
    result = sync(a, server.url, europe)
    assert result.ok and result.rejected > 0 and result.pushed > 0
    saved = json.loads((a.home / REJECTED_FILE).read_text())
    assert saved["batches"][0]["status"] == 403
    assert "outside this token's regions" in saved["batches"][0]["reason"]
    assert {o["session_id"] for o in saved["batches"][0]["ops"]} == {wrong}
    assert server.query("SELECT DISTINCT session_id FROM ops WHERE session_id != ''") == [(right,)]
    again = sync(a, server.url, europe)  # skipped from now on, still listed
    assert again.ok and again.rejected == 0 and again.rejected_total == result.rejected
    assert "rejected list" in again.summary()


def test_a_wrong_token_is_an_auth_error_and_never_shown(live_server, event, tmp_path):
    server, (event_id, token) = live_server, event
    a = LocalStore(tmp_path / "a")
    assert sync(a, server.url, token).ok
    a.create_session(event_id, "europe", "Europe", AGENDA)
    secret = "not-the-token-" + "x" * 20
    client = fast_client(a, server.url, secret)
    result = asyncio.run(client.sync_once())
    assert result.auth_error and not result.ok
    assert secret not in result.summary() and secret not in repr(client)
    assert a.pending_count() > 0 and server_op_ids(server) == []


def test_unreachable_server_gives_up_at_the_deadline(tmp_path):
    a = LocalStore(tmp_path / "a")
    delays: list[float] = []

    async def record(d: float) -> None:
        delays.append(d)

    now = [0.0]

    def monotonic() -> float:
        now[0] += 0.5  # each look at the clock moves it on, so the deadline comes
        return now[0]

    client = SyncClient(a, "http://127.0.0.1:9", "t", sleep=record, monotonic=monotonic,
                        round_deadline=5, rng=random.Random(1))  # fmt: skip
    result = asyncio.run(client.sync_once())
    assert result.error and "gave up after" in result.error and not result.auth_error
    assert len(delays) >= 1


def test_503_with_retry_after_is_honoured(live_server, event, fault_proxy, tmp_path):
    server, (event_id, token) = live_server, event
    a = LocalStore(tmp_path / "a")
    assert sync(a, server.url, token).ok
    a.create_session(event_id, "americas", "Americas", AGENDA)
    fault_proxy.retry_after = 7
    fault_proxy.script = ["503", "503"]
    waited: list[float] = []

    async def record(d: float) -> None:
        waited.append(d)

    result = asyncio.run(fast_client(a, fault_proxy.url, token, sleep=record).sync_once())
    assert result.ok and result.pushed > 0
    assert waited[:2] == [7.0, 7.0]


def test_backoff_is_full_jitter_capped_and_honours_retry_after():
    rng = random.Random(42)
    delays = [backoff_delay(n, rng, base=0.5, cap=8.0) for n in range(10)]
    ceilings = [min(8.0, 0.5 * 2**n) for n in range(10)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    again = [backoff_delay(n, random.Random(42), base=0.5, cap=8.0) for n in range(1)]
    assert again[0] == delays[0]  # seeded: reproducible
    many = [backoff_delay(6, rng, base=0.5, cap=8.0) for _ in range(2000)]
    assert 3.5 < sum(many) / len(many) < 4.5  # uniform on [0, 8]: mean 4
    assert backoff_delay(0, rng, retry_after=12.0) == 12.0
    assert backoff_delay(60, rng, cap=30.0) <= 30.0


def test_retry_after_parsing():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_batch_key_depends_on_the_ops_only():
    a = batch_key("e", ["1", "2"])
    assert a == batch_key("e", ["1", "2"]) and a != batch_key("e", ["1", "3"])
    assert len(a) <= 100


def test_tiny_batches_send_a_new_sessions_region_first(live_server, event, tmp_path):
    server, (event_id, token) = live_server, event
    a = LocalStore(tmp_path / "a")
    assert sync(a, server.url, token).ok
    a.create_session(event_id, "europe", "Europe", AGENDA)
    pending = a.pending_count()
    result = sync(a, server.url, token, batch_size=1)
    assert result.ok and result.rejected == 0 and result.pushed == pending
    assert server.query("SELECT COUNT(*) FROM idempotency") == [(pending,)]


def test_a_bad_ca_bundle_is_a_one_line_error(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    a = LocalStore(tmp_path / "a")
    result = asyncio.run(SyncClient(a, "https://127.0.0.1:9", "t", ca_file=str(bad)).sync_once())
    assert result.error and "cannot use this CA bundle" in result.error
    assert "\n" not in result.error


# ---------------------------------------------------------------------------------------------
# The round's cost: the outbox interface (issue 16's sync round)
# ---------------------------------------------------------------------------------------------


def laptop_with_sessions(server: LiveServer, token: str, event_id: str, home: Path, n: int):
    """A laptop with ``n`` sessions of a few entries each, all pushed."""
    store = LocalStore(home)
    assert sync(store, server.url, token).ok
    sids = []
    for k in range(n):
        sid = store.create_session(event_id, "europe", f"Room {k}", AGENDA).id
        with store.open_session(sid) as ss:
            for i in range(5):
                ss.add_entry("need", f"Need {i} of room {k}", delegations=["FR"])
        sids.append(sid)
    assert sync(store, server.url, token).pushed > 0
    return store, sids


def count_opens(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Record every unit opened with its view (``Unit``) and with its journal alone
    (``JournalHandle``), and the thread each was opened in."""
    import threading

    from roundtable.store import unit as unit_module

    seen: dict[str, list] = {"unit": [], "journal": []}
    for name, cls in (("unit", unit_module.Unit), ("journal", unit_module.JournalHandle)):
        real = cls.__init__

        def init(self, path, *a, _real=real, _name=name, **kw):
            seen[_name].append((Path(path).name, kw.get("read_only", False),
                                threading.current_thread() is threading.main_thread()))  # fmt: skip
            _real(self, path, *a, **kw)

        monkeypatch.setattr(cls, "__init__", init)
    return seen


def test_a_round_with_nothing_to_push_opens_no_unit_for_writing(
    live_server, event, tmp_path, monkeypatch
):
    """Before: every unit of the event was opened for writing (view parsed, history read,
    checkpoint at close) to find out it had nothing to push."""
    event_id, token = event
    store, sids = laptop_with_sessions(live_server, token, event_id, tmp_path / "a", 3)
    store = LocalStore(tmp_path / "a")  # a fresh process's store: nothing cached
    seen = count_opens(monkeypatch)
    result = sync(store, live_server.url, token)
    assert result.ok and result.pushed == 0 and result.pulled == 0
    writable_sessions = [s for s in seen["unit"] if s[0] in sids and not s[1]]
    assert writable_sessions == [] and seen["journal"] == []
    assert store.pending_count() == 0
    # the listing is remembered: a second round reads no session's view to list it
    seen["unit"].clear()
    assert sync(store, live_server.url, token).ok
    assert [s for s in seen["unit"] if s[0] in sids] == []


def test_a_pending_session_is_pushed_from_its_journal_in_a_worker_thread(
    live_server, event, tmp_path, monkeypatch
):
    event_id, token = event
    store, sids = laptop_with_sessions(live_server, token, event_id, tmp_path / "a", 3)
    with LocalStore(tmp_path / "a").open_session(sids[1]) as ss:
        added = ss.add_entry("note", "Added from the command line")
    open_one = store.open_session(sids[0])  # the app's open session, with a capture
    try:
        live = open_one.add_entry("note", "Typed in the app")
        per_entry = len(open_one.outbox())
        assert {ob.session_id: ob.count for ob in store.outboxes(event_id)} == {
            sids[0]: per_entry,
            sids[1]: per_entry,  # the same kind of entry: as many ops
        }
        seen = count_opens(monkeypatch)
        result = sync(store, live_server.url, token)
        assert result.ok and result.pushed == 2 * per_entry and not result.skipped
        # the other session: its journal alone, in a worker thread; never its view
        assert seen["journal"] == [(sids[1], False, False)]
        assert [s for s in seen["unit"] if s[0] in sids] == []
        assert open_one.pending_count() == 0 and not open_one.closed
    finally:
        open_one.close()
    with LocalStore(tmp_path / "a").open_session(sids[1], read_only=True) as ss:
        assert ss.pending_count() == 0 and ss.get("entry", added.id) is not None
    on_server = {r[0] for r in live_server.query("SELECT record_id FROM ops")}
    assert {added.id, live.id} <= on_server
    # the acknowledgement lines lie past the view: the sessions list still takes the summary
    listing = {s.id: s.pending for s in LocalStore(tmp_path / "a").sessions()}
    assert listing == dict.fromkeys(sids, 0)


def test_pulled_ops_already_here_are_told_from_the_journal_without_the_view(
    live_server, event, tmp_path, monkeypatch
):
    """A fresh cursor does not pull this laptop's own ops back (issue 12: the server leaves
    them out), so no unit is even opened."""
    event_id, token = event
    store, sids = laptop_with_sessions(live_server, token, event_id, tmp_path / "a", 2)
    (store.home / "sync.json").unlink()  # the cursor starts over
    store = LocalStore(tmp_path / "a")
    seen = count_opens(monkeypatch)
    result = sync(store, live_server.url, token)
    assert result.ok and result.pulled == 0
    assert [s for s in seen["journal"] if s[0] in sids] == []
    assert [s for s in seen["unit"] if s[0] in sids and not s[1]] == []
    # and the cursor moved past them: the next pull starts after the last op
    last = live_server.query("SELECT MAX(seq) FROM ops")[0][0]
    assert json.loads((store.home / "sync.json").read_text())["cursors"][event_id] == last


def test_sync_never_touches_a_unit() -> None:
    """sync.py goes through the outbox interface only (``roundtable.store.outbox``)."""
    text = (Path(__file__).resolve().parent.parent / "roundtable" / "sync.py").read_text("utf-8")
    for name in ("with_unit", "release(", "unit_path_for", ".unit", "Unit", "apply_remote"):
        assert name not in text, name


def test_the_sync_round_bench_runs_small(tmp_path: Path) -> None:
    """bench/bench_sync_round.py (docs/performance.md, "Sync round") still runs; no timing
    is asserted."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, "bench/bench_sync_round.py", "--entries", "20", "--rounds", "1"],
        cwd=root, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "| quiet (open session: 5 pending) |" in run.stdout
    assert "| another session with 50 pending |" in run.stdout


# -- issue 12: honest counts, rejected changes named, tokens never in URLs ---------------------


def test_a_batch_stored_in_an_earlier_round_is_not_counted_as_pushed(live_server, event, tmp_path):
    """The answer of a whole round was lost; the next round's replay used to say "pushed 16"
    for ops already on the server."""
    server, (event_id, token) = live_server, event
    a, sid, pending = _one_need_to_push(server, event_id, token, tmp_path / "a")
    # the same batch, sent by hand with the client's key: stored, answer never journaled
    from roundtable import protocol

    with a.open_session(sid) as ss:
        ops = ss.outbox()
    ops.sort(key=lambda o: not (o.kind == "session" and o.field == "region"))
    import httpx

    r = httpx.post(
        f"{server.url}/v1/events/{event_id}/ops",
        content=json.dumps(protocol.push_body(ops, a.device)).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": batch_key(event_id, (o.op_id for o in ops)),
        },  # fmt: skip
    )
    assert r.status_code == 200 and len(r.json()["accepted"]) == pending
    result = sync(a, server.url, token)
    assert result.ok, result.summary()
    assert (result.pushed, result.duplicates) == (0, pending)
    assert result.summary().startswith("sync: pushed 0, pulled 0")
    assert a.pending_count() == 0


def test_a_sync_with_rejected_changes_exits_3_and_names_them(live_server, event, tmp_path,
                                                             monkeypatch, capsys):  # fmt: skip
    from roundtable import cli

    server, (event_id, _) = live_server, event
    europe = server.token(event_id, ["europe"])
    home = tmp_path / "a"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    monkeypatch.setenv("ROUNDTABLE_API_URL", server.url)
    monkeypatch.setenv("ROUNDTABLE_TOKEN", europe)
    a = LocalStore(home)
    assert sync(a, server.url, europe).ok
    a.create_session(event_id, "africa", "Not our region", AGENDA)
    assert cli.main(["sync", "--quiet"]) == 3
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("sync: rejected")]
    assert len(lines) == 1, err
    assert "HTTP 403" in lines[0] and "outside this token's regions" in lines[0]
    # the next sync has nothing new rejected: exit 0, the list still mentioned
    assert cli.main(["sync", "--quiet"]) == 0
    assert "rejected list" in capsys.readouterr().err


def test_a_token_in_a_query_string_is_refused_and_not_echoed(live_server, event):
    import httpx

    _, token = event
    for name in ("token", "access_token", "Authorization"):
        r = httpx.get(f"{live_server.url}/v1/whoami", params={name: token})
        assert r.status_code == 400
        assert token not in r.text and "Authorization: Bearer" in r.json()["detail"]
    # with a good header too: still refused (the URL has already leaked into logs upstream)
    r = httpx.get(f"{live_server.url}/v1/health?token={token}",
                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 400


def test_the_access_log_shows_paths_without_query_strings(tmp_path):
    """`roundtable serve`'s uvicorn access log: the token put in ?token= was written whole."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    env = {**os.environ, "ROUNDTABLE_HOME": str(tmp_path / "home")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "roundtable", "serve", "--db", str(tmp_path / "s.db"),
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(f"{url}/v1/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            assert httpx.get(f"{url}/v1/whoami?token=SECRET-123").status_code == 400
            assert httpx.get(f"{url}/v1/health?since=42").status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "GET /v1/whoami 400 " in text, text  # the access log: middleware.AccessLog
    assert "SECRET-123" not in text and "since=42" not in text


def test_the_secretariat_refuses_text_and_clocks_no_laptop_writes(live_server, event, tmp_path):
    """It stored NUL and ESC in text and an HLC with wall 0; the laptops refuse them."""
    import httpx

    from roundtable import protocol
    from roundtable.model import Op, new_id

    server, (event_id, token) = live_server, event
    a = LocalStore(tmp_path / "a")
    assert sync(a, server.url, token).ok
    sid = a.create_session(event_id, "europe", "Europe round table", AGENDA).id
    assert sync(a, server.url, token).ok
    before = server.op_count()
    hlc = "001800000000000-000000-lap-z"
    good = Op(new_id(), event_id, sid, new_id(), "entry", "text", "fine", hlc, "lap-z")
    from dataclasses import replace

    cases = [
        (replace(good, value="a\x00b"), "control character U+0000"),
        (replace(good, value="\x1b[2J"), "control character U+001B"),
        (replace(good, hlc="000000000000000-000001-lap-z"), "no wall time"),
    ]
    for op, reason in cases:
        r = httpx.post(
            f"{server.url}/v1/events/{event_id}/ops",
            content=json.dumps(protocol.push_body([op], "lap-z")).encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": new_id(),
            },
        )
        assert r.status_code == 422 and reason in r.json()["detail"], r.text
        assert "\n" not in r.json()["detail"]
    assert server.op_count() == before


def test_the_tls_context_is_built_once_per_ca_bundle(tmp_path) -> None:
    """Each round's client reuses the TLS context (building one read the whole CA bundle on the
    app's event loop every round, issue 16); a changed bundle file gives a new one."""
    import shutil
    import ssl

    import certifi

    from roundtable import sync as sync_mod

    bundle = tmp_path / "ca.pem"
    shutil.copy(certifi.where(), bundle)
    first = sync_mod._tls_context(str(bundle), sync_mod._bundle_stamp(str(bundle)))
    again = sync_mod._tls_context(str(bundle), sync_mod._bundle_stamp(str(bundle)))
    assert isinstance(first, ssl.SSLContext) and again is first
    bundle.write_bytes(bundle.read_bytes() + b"\n")  # the file changed: size and mtime
    changed = sync_mod._tls_context(str(bundle), sync_mod._bundle_stamp(str(bundle)))
    assert changed is not first
    default = sync_mod._tls_context("", sync_mod._bundle_stamp(""))
    assert sync_mod._tls_context("", sync_mod._bundle_stamp("")) is default
