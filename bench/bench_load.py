"""Load: the reference secretariat under many laptops capturing and syncing at once.

Run:  python bench/bench_load.py [--clients 50] [--seconds 60] [--procs 5]
            [--db postgresql://... --workers 2] [--push200 20]

The server is the real one (uvicorn subprocess on 127.0.0.1) over SQLite (a temporary file, WAL,
synchronous=FULL; one worker) or, with ``--db postgresql://...``, over that PostgreSQL database
with ``--workers`` uvicorn processes (the tables are created if missing; events get a run id in
their name, so a database can be reused).  Before the load, one laptop pushes ``--push200``
batches of 200 ops on the idle server: the server's own time per such push (Server-Timing).
Each client is a laptop with its own home and session; five laptops share an event (as five
regional rooms do), so each one pulls the others' changes.  For ``--seconds`` every laptop loops:
capture one to three entries, run one sync round (whoami, push, pull), pause 0-100 ms.  The
clients run as asyncio tasks spread over ``--procs`` worker processes, so the client side does
not queue behind one interpreter.  Every HTTP request is timed (status or transport error).

At the end every laptop runs a last sync round with nothing new, and the check is exact: for
each event, the server's ops are exactly the union of its laptops' own ops (nothing lost,
nothing duplicated), no laptop has anything left to push, and every laptop holds every op of its
event.  Prints a Markdown table; exits 1 if anything was lost, duplicated or left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SERVER = """
import uvicorn
uvicorn.run("roundtable.secretariat:app_from_env", factory=True, host="127.0.0.1",
            port={port}, workers={workers}, log_level="warning", access_log=False)
"""

ROOM = 5
"""Laptops per event."""
AGENDA = [{"title": "Regional needs", "item_kind": "needs"}]


def _timed_client_class():
    from roundtable.sync import SyncClient

    class TimedClient(SyncClient):
        """SyncClient that records (seconds, status or error name) for every HTTP request."""

        samples: list[tuple[float, str]]
        server_ms: list[float]

        def _client(self):
            client = super()._client()
            original = client.request
            samples = self.samples

            async def request(method, url, **kw):
                started = time.perf_counter()
                try:
                    resp = await original(method, url, **kw)
                except Exception as exc:
                    samples.append((time.perf_counter() - started, type(exc).__name__))
                    raise
                samples.append((time.perf_counter() - started, str(resp.status_code)))
                timing = resp.headers.get("server-timing", "")
                if timing.startswith("app;dur="):
                    self.server_ms.append(float(timing[8:]))
                return resp

            client.request = request
            return client

    return TimedClient


async def _laptop(home: Path, url: str, token: str, event_id: str, until: float, seed: int):
    from roundtable.store import LocalStore

    client_cls = _timed_client_class()
    rng = random.Random(seed)
    store = LocalStore(home)
    samples: list[tuple[float, str]] = []
    client = client_cls(store, url, token, round_deadline=30, rng=rng)
    client.samples = samples
    client.server_ms = server_ms = []
    rounds = failed_rounds = captured = 0
    first = await client.sync_once()  # the event record
    failed_rounds += not first.ok
    while not first.ok and time.monotonic() < until:  # an overloaded server: try again
        await asyncio.sleep(rng.random())
        first = await client.sync_once()
        failed_rounds += not first.ok
    if not first.ok:
        raise SystemExit(f"laptop {seed}: never got its event from the server: {first.error}")
    pushed = first.pushed
    session_id = store.create_session(event_id, "africa", f"Room {seed}", AGENDA).id
    ss = store.open_session(session_id)
    try:
        while time.monotonic() < until:
            for _ in range(rng.randint(1, 3)):
                ss.add_entry("need", f"Need {captured} from room {seed}", delegations=["GH"])
                captured += 1
            result = await client.sync_once()
            rounds += 1
            failed_rounds += not result.ok
            pushed += result.pushed
            await asyncio.sleep(rng.random() * 0.1)
        return {
            "samples": samples,
            "rounds": rounds,
            "failed_rounds": failed_rounds,
            "captured": captured,
            "pushed": pushed,
            "server_ms": server_ms,
        }
    finally:
        ss.close()


async def _final_round(home: Path, url: str, token: str) -> dict:
    from roundtable.store import LocalStore
    from roundtable.sync import SyncClient

    store = LocalStore(home)
    result = await SyncClient(store, url, token, round_deadline=120).sync_once()
    return {
        "ok": result.ok,
        "error": result.error,
        "pending": store.pending_count(),
        "pushed": result.pushed,
    }


def start_server(db: str, workers: int) -> tuple[subprocess.Popen, str]:
    """uvicorn with ``workers`` processes over ``db``, configured as `roundtable serve` does."""
    from bench_sync import free_port, wait_healthy

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ROUNDTABLE_DB_URL": db}
    code = SERVER.format(port=port, workers=workers)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, 60)
    return proc, url


def push200(home: Path, url: str, token: str, event_id: str, batches: int) -> list[float]:
    """The server's own time (Server-Timing, ms) of each push of a batch of 200 ops."""
    from roundtable.store import LocalStore

    store = LocalStore(home)
    client = _timed_client_class()(store, url, token, batch_size=200, round_deadline=600)
    client.samples, client.server_ms = [], []
    assert asyncio.run(client.sync_once()).ok
    sid = store.create_session(event_id, "europe", "Push timing", AGENDA).id
    with store.open_session(sid) as ss:
        n = 0
        while ss.pending_count() < 200 * batches:
            ss.add_entry("need", f"Training need {n}", delegations=["FR"], crime_areas=["x"])
            n += 1
    client.server_ms = timings = []
    result = asyncio.run(client.push())
    assert result.ok and result.rejected == 0, result.summary()
    # the timed client also saw the last, partial batch; keep the full ones
    return timings[: result.pushed // 200]


def _rows(db: str, sql: str, args: tuple = ()) -> list[tuple]:
    from roundtable.secretariat.db import open_ready

    with open_ready(db) as database, database.repository() as repo:
        return repo.rows(sql, args)


def _worker(jobs: list[dict], url: str, until: float, out: str) -> None:
    async def run() -> list[dict]:
        return await asyncio.gather(
            *(_laptop(Path(j["home"]), url, j["token"], j["event"], until, j["seed"]) for j in jobs)
        )

    Path(out).write_text(json.dumps(asyncio.run(run())), encoding="utf-8")


def _journal_ops(home: Path) -> tuple[set[str], set[str]]:
    """(this laptop's own op ids, every op id it holds), read from its journals."""
    from roundtable.store.journal import decode_line

    own: set[str] = set()
    held: set[str] = set()
    for journal in home.glob("*/*/journal.jsonl"):
        for raw in journal.read_bytes().splitlines():
            line = decode_line(raw)
            ids = {o["op_id"] for o in line.get("ops", ())}
            held |= ids
            if line.get("t") == "change":
                own |= ids
    return own, held


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--procs", type=int, default=5, help="client worker processes")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--db", default="", help="a postgresql:// URL (default: a temporary SQLite)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers (PostgreSQL only)")
    ap.add_argument("--push200", type=int, default=0, help="batches of 200 ops to time first")
    args = ap.parse_args()

    from roundtable.secretariat import create_event, is_url, issue_token

    if args.workers > 1 and not is_url(args.db):
        ap.error("--workers > 1 needs --db postgresql://... (SQLite has one writer)")
    run = time.strftime("%H%M%S") + f"-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="rt-bench-load-") as tmp:
        base = Path(tmp)
        db = args.db or str(base / "secretariat.db")
        engine = "PostgreSQL" if is_url(db) else "SQLite"
        jobs = []
        for n in range(args.clients):
            if n % ROOM == 0:
                event_id = create_event(db, f"Load event {n // ROOM} ({run})")
                token = issue_token(db, event_id, ["*"])
            jobs.append({"home": str(base / f"laptop-{n:02d}"), "token": token,
                         "event": event_id, "seed": n})  # fmt: skip
        proc, url = start_server(db, args.workers)
        try:
            push_ms: list[float] = []
            if args.push200:
                timing_event = create_event(db, f"Push timing ({run})")
                timing_token = issue_token(db, timing_event, ["*"])
                push_ms = sorted(push200(base / "push200", url, timing_token, timing_event,
                                         args.push200))  # fmt: skip
            procs = max(1, min(args.procs, args.clients))
            until = time.monotonic() + args.seconds
            started = time.perf_counter()
            ctx = multiprocessing.get_context("spawn")
            workers = []
            for p in range(procs):
                out = str(base / f"worker-{p}.json")
                w = ctx.Process(target=_worker, args=(jobs[p::procs], url, until, out))
                w.start()
                workers.append((w, out))
            results: list[dict] = []
            for w, out in workers:
                w.join()
                if w.exitcode != 0:
                    print(f"a client worker failed (exit {w.exitcode})", file=sys.stderr)
                    return 1
                results += json.loads(Path(out).read_text(encoding="utf-8"))
            elapsed = time.perf_counter() - started

            async def finals() -> list[dict]:
                return await asyncio.gather(
                    *(_final_round(Path(j["home"]), url, j["token"]) for j in jobs)
                )

            # Two passes: the first pushes what each laptop still holds, but a laptop's pull in
            # it may come before another's push (they run together); the second, begun once
            # every first pass has ended, pulls those.
            first = asyncio.run(finals())
            second = asyncio.run(finals())
            final = [
                {"ok": a["ok"] and b["ok"], "error": a["error"] or b["error"],
                 "pending": b["pending"], "pushed": a["pushed"] + b["pushed"]}
                for a, b in zip(first, second, strict=True)
            ]  # fmt: skip
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

        lost = duplicated = missing_here = 0
        for event_id in {j["event"] for j in jobs}:
            rows = [r[0] for r in _rows(db, "SELECT op_id FROM ops WHERE event_id = ?",
                                        (event_id,))]  # fmt: skip
            server = set(rows)
            duplicated += len(rows) - len(server)
            own: set[str] = set()
            holdings = []
            for j in (j for j in jobs if j["event"] == event_id):
                mine, held = _journal_ops(Path(j["home"]))
                own |= mine
                holdings.append(held)
            event_record = {r[0] for r in _rows(
                db, "SELECT op_id FROM ops WHERE event_id = ? AND device = 'secretariat'",
                (event_id,))}  # fmt: skip
            lost += len(own - server) + len(server - own - event_record)
            missing_here += sum(len(server - held) for held in holdings)

    samples = [s for r in results for s in r["samples"]]
    latencies = sorted(t for t, _ in samples)
    errors = sum(1 for _, status in samples if not status.isdigit() or int(status) >= 500)
    refused = sum(1 for _, status in samples if status.isdigit() and 400 <= int(status) < 500)
    pending = sum(f["pending"] for f in final)
    final_failed = sum(1 for f in final if not f["ok"])
    rounds = sum(r["rounds"] for r in results)
    failed_rounds = sum(r["failed_rounds"] for r in results)
    captured = sum(r["captured"] for r in results)
    pushed = sum(r["pushed"] for r in results)
    pushed_late = sum(f["pushed"] for f in final)
    kinds: dict[str, int] = {}
    for _, status in samples:
        if not status.isdigit() or int(status) >= 500:
            kinds[status] = kinds.get(status, 0) + 1

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    in_server = sorted(ms for r in results for ms in r["server_ms"])

    def server_pct(q: float) -> float:
        return in_server[min(len(in_server) - 1, int(q * len(in_server)))] if in_server else 0.0

    def push_pct(q: float) -> float:
        return push_ms[min(len(push_ms) - 1, int(q * len(push_ms)))] if push_ms else 0.0

    figures = {
        "engine": engine,
        "workers": args.workers,
        "push200_n": len(push_ms),
        "push200_server_p50_ms": push_pct(0.5),
        "push200_server_p90_ms": push_pct(0.9),
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "requests_per_s": len(samples) / elapsed,
        "error_rate": errors / max(1, len(samples)),
        "refused_4xx": refused,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "server_p50_ms": server_pct(0.50),
        "server_p99_ms": server_pct(0.99),
        "rounds": rounds,
        "failed_rounds": failed_rounds,
        "entries_captured": captured,
        "ops_pushed": pushed,
        "ops_per_s": pushed / elapsed,
        "ops_pushed_in_final_round": pushed_late,
        "errors_by_kind": kinds,
        "lost": lost,
        "duplicated": duplicated,
        "left_to_push": pending,
        "not_pulled": missing_here,
        "final_rounds_failed": final_failed,
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    from _figures import record

    record("load" if engine == "SQLite" else "load_postgresql", **figures)
    worker_text = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    print(
        f"{args.clients} laptops ({args.clients // ROOM or 1} events of up to {ROOM}), "
        f"{elapsed:.0f} s, {procs} client processes, server on 127.0.0.1 "
        f"({engine}, {worker_text})\n"
    )
    print("| measure | value |")
    print("|---|---:|")
    print(f"| HTTP requests | {len(samples):,} ({len(samples) / elapsed:,.0f}/s) |")
    print(f"| sync rounds (whoami + push + pull) | {rounds:,} ({failed_rounds} failed) |")
    print(f"| entries captured | {captured:,} |")
    print(f"| ops pushed (stored new) | {pushed:,} ({pushed / elapsed:,.0f}/s; "
          f"{pushed_late:,} more in the final rounds) |")  # fmt: skip
    shown = ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())) or "none"
    print(f"| error rate (5xx or transport error) | {errors / max(1, len(samples)):.3%} "
          f"({shown}) |")  # fmt: skip
    print(f"| 4xx answers | {refused} |")
    print(f"| latency p50 / p95 / p99 / max | {pct(0.5):.0f} / {pct(0.95):.0f} / "
          f"{pct(0.99):.0f} / {figures['max_ms']:.0f} ms |")  # fmt: skip
    print(f"| of which in the server (Server-Timing) p50 / p95 / p99 | {server_pct(0.5):.0f} / "
          f"{server_pct(0.95):.0f} / {server_pct(0.99):.0f} ms |")  # fmt: skip
    if push_ms:
        print(f"| server's time per push of 200 ops, idle server, p50 / p90 ({len(push_ms)} "
              f"pushes) | {push_pct(0.5):.1f} / {push_pct(0.9):.1f} ms |")  # fmt: skip
    print()
    print(
        f"lost {lost} duplicated {duplicated} · left to push {pending} · ops not pulled by a "
        f"laptop of the event {missing_here} · final rounds failed {final_failed}"
    )
    bad = lost or duplicated or pending or missing_here or final_failed
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
