"""Sync throughput against a real secretariat on loopback (uvicorn in a subprocess).

Run: `python bench/bench_sync.py [--changes N] [--clients K]`.  Prints Markdown.

* push N changes (ops) from one laptop in batches of 200 and of 500;
* the same one request per change: measured on N/10 changes and extrapolated (said so);
* pull the N changes into a fresh laptop (pages of 1,000);
* K laptops pushing at once (N/K changes each, batches of 200): server throughput.
The clients run in this process (asyncio); the server is a separate process, as in production.
The target: 10,000 changes pushed and pulled in under 5 s in total.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from roundtable.store import LocalStore  # noqa: E402
from roundtable.sync import SyncClient  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

AGENDA = [{"title": "Needs", "item_kind": "needs"}]
SERVER = """
import sys, uvicorn
from roundtable.secretariat import create_app
uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(db), str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, 30)
    return proc, url


def wait_healthy(proc: subprocess.Popen, url: str, seconds: float) -> None:
    """Returns once the secretariat at ``url`` answers its health check; else, after
    ``seconds``, kills ``proc`` and exits."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the secretariat did not start")


def laptop(home: Path, url: str, token: str, event_id: str, changes: int, title: str):
    """A laptop with a session holding at least ``changes`` pending ops (a new entry is a few
    ops, so the count may pass ``changes`` by a few)."""
    store = LocalStore(home)
    assert asyncio.run(SyncClient(store, url, token).sync_once()).ok
    sid = store.create_session(event_id, "europe", title, AGENDA).id
    with store.open_session(sid) as ss:
        n = 0
        while ss.pending_count() < changes:
            ss.add_entry("need", f"Training need {n}", delegations=["FR"], crime_areas=["x"])
            n += 1
    return store


def timed_push(store: LocalStore, url: str, token: str, batch: int) -> tuple[float, int]:
    client = SyncClient(store, url, token, batch_size=batch, round_deadline=600)
    t0 = time.perf_counter()
    result = asyncio.run(client.push())
    elapsed = time.perf_counter() - t0
    assert result.ok and result.rejected == 0, result.summary()
    return elapsed, result.pushed


ROUND = """
import asyncio, json, resource, sys, time
from roundtable.store import LocalStore
from roundtable.sync import SyncClient


def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss may carry the forking parent's across exec)
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


home, url, token = sys.argv[1:4]
store = LocalStore(home)
client = SyncClient(store, url, token, round_deadline=1200)
import httpx  # noqa: the round's own imports, counted in the start figure
before = peak_mb()
t0 = time.perf_counter()
result = asyncio.run(client.sync_once())
elapsed = time.perf_counter() - t0
peak = peak_mb()
print(json.dumps({"s": elapsed, "peak_mb": peak, "start_mb": before, "ok": result.ok,
                  "pushed": result.pushed, "pulled": result.pulled,
                  "summary": result.summary()}))
"""


def measured_round(home: Path, url: str, token: str) -> dict:
    """One sync round (push + pull) in a fresh interpreter: its time and peak RSS."""
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", ROUND, str(home), url, token],
        check=True, capture_output=True, text=True, env=env,
    ).stdout  # fmt: skip
    data = json.loads(out.strip().splitlines()[-1])
    assert data["ok"], data["summary"]
    return data


def scale(captures: int) -> None:
    """Issue 12: a laptop pushing ``captures`` entries in one round, against a fresh laptop
    pulling the same, each in its own process: time and peak RSS (``VmHWM``)."""
    from roundtable.secretariat import create_event, issue_token

    with tempfile.TemporaryDirectory(prefix="rt-bench-scale-") as tmp:
        tmp_path = Path(tmp)
        db = tmp_path / "secretariat.db"
        event_id = create_event(db, "Bench scale")
        token = issue_token(db, event_id, ["*"])
        proc, url = start_server(db)
        try:
            store = LocalStore(tmp_path / "pusher")
            assert asyncio.run(SyncClient(store, url, token).sync_once()).ok
            sid = store.create_session(event_id, "europe", "Scale", AGENDA).id
            with store.open_session(sid) as ss:
                for n in range(captures):
                    ss.add_entry("need", f"Training need {n}", delegations=["FR"],
                                 crime_areas=["cybercrime"])  # fmt: skip
                ops = ss.pending_count()
            push = measured_round(tmp_path / "pusher", url, token)
            fresh = measured_round(tmp_path / "fresh", url, token)
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"| Sync at scale: {captures:,} captures ({ops:,} ops) | Time | Peak RSS |")
    print("|---|---:|---:|")
    print(f"| the capturing laptop's round (push, then pull: {push['summary']}) | "
          f"{push['s']:.2f} s | {push['peak_mb']:.0f} MB |")  # fmt: skip
    print(f"| a fresh laptop's round (pull: {fresh['summary']}) | {fresh['s']:.2f} s | "
          f"{fresh['peak_mb']:.0f} MB |")  # fmt: skip
    ratio = push["s"] / fresh["s"]
    memory = push["peak_mb"] / fresh["peak_mb"]
    print()
    print(f"Push / fresh pull: {ratio:.2f}x the time (target <= 2x, issue 12), {memory:.2f}x "
          f"the peak memory (target <= 1.5x, issue 25); push peak {push['peak_mb']:.0f} MB "
          f"(target <= 150 MB); an interpreter with roundtable and httpx imported starts at "
          f"~{push['start_mb']:.0f} MB.")  # fmt: skip
    from _figures import record

    record(
        "sync_scale",
        captures=captures,
        ops=ops,
        push_s=push["s"],
        push_peak_mb=push["peak_mb"],
        pull_s=fresh["s"],
        pull_peak_mb=fresh["peak_mb"],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--captures", type=int, default=10_000, help="captures of the scale run")
    ap.add_argument("--scale-only", action="store_true", help="only the scale run (issue 12)")
    args = ap.parse_args()
    if args.scale_only:
        scale(args.captures)
        return
    n, k = args.changes, args.clients

    from roundtable.secretariat import create_event, issue_token

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="rt-bench-sync-") as tmp:
        tmp_path = Path(tmp)
        db = tmp_path / "secretariat.db"
        events = {}
        for name in ("b200", "b500", "single", "concurrent"):
            event_id = create_event(db, f"Bench {name}")
            events[name] = (event_id, issue_token(db, event_id, ["*"]))
        proc, url = start_server(db)
        try:
            pushed = {}
            for batch in (200, 500):
                event_id, token = events[f"b{batch}"]
                store = laptop(tmp_path / f"b{batch}", url, token, event_id, n, f"b{batch}")
                t, count = timed_push(store, url, token, batch)
                pushed[batch] = (t, count)
                rows.append((f"push {count:,} changes, batches of {batch}", f"{t:.2f} s",
                             f"{count / t:,.0f} changes/s"))  # fmt: skip
            small = max(1, n // 10)
            event_id, token = events["single"]
            store = laptop(tmp_path / "single", url, token, event_id, small, "single")
            t, count = timed_push(store, url, token, 1)
            per = t / count
            rows.append((f"push one request per change ({count:,} measured)",
                         f"{per * 1000:.2f} ms/change",
                         f"≈ {per * n:.1f} s for {n:,} (extrapolated)"))  # fmt: skip

            event_id, token = events["b200"]
            fresh = LocalStore(tmp_path / "fresh")
            client = SyncClient(fresh, url, token, round_deadline=600)
            t0 = time.perf_counter()
            pulled = asyncio.run(client.pull()) - 5  # less the event record's own ops
            t_pull = time.perf_counter() - t0
            rows.append((f"pull {pulled:,} changes into a fresh laptop", f"{t_pull:.2f} s",
                         f"{pulled / t_pull:,.0f} changes/s"))  # fmt: skip
            t_push200, c200 = pushed[200]
            from _figures import record

            record(
                "sync",
                changes=n,
                batched_200_s=t_push200 * n / c200,
                batched_500_s=pushed[500][0] * n / pushed[500][1],
                per_change_ms=per * 1000,
                per_change_s=per * n,
                pull_s=t_pull * n / max(pulled, 1),
                push_pull_s=t_push200 * n / c200 + t_pull * n / max(pulled, 1),
            )
            rows.append((f"push + pull {n:,} changes (batches of 200)",
                         f"{t_push200 * n / c200 + t_pull * n / max(pulled, 1):.2f} s",
                         "target < 5 s"))  # fmt: skip

            each = max(1, n // k)
            event_id, token = events["concurrent"]
            stores = [
                laptop(tmp_path / f"c{i}", url, token, event_id, each, f"c{i}") for i in range(k)
            ]

            async def push_all() -> list:
                clients = [SyncClient(s, url, token, round_deadline=600) for s in stores]
                return await asyncio.gather(*(c.push() for c in clients))

            t0 = time.perf_counter()
            results = asyncio.run(push_all())
            t_conc = time.perf_counter() - t0
            total = sum(r.pushed for r in results)
            assert all(r.ok for r in results)
            batches = sum(-(-r.pushed // 200) for r in results)
            rows.append((f"{k} laptops pushing at once ({total:,} changes, {batches} batches)",
                         f"{t_conc:.2f} s",
                         f"{total / t_conc:,.0f} changes/s, "
                         f"{batches / t_conc:,.0f} batches/s"))  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)

    print("| Measure | Time | Rate |")
    print("|---|---:|---:|")
    for what, time_text, rate in rows:
        print(f"| {what} | {time_text} | {rate} |")
    print()
    print(
        "Server: uvicorn (one process, default thread pool) over SQLite in WAL mode with "
        "synchronous=FULL, on 127.0.0.1.  Clients: SyncClient (httpx) in the benchmark process; "
        "a change is one op (a new entry is a few ops).  One-request-per-change is "
        f"measured on ~{max(1, n // 10):,} changes and extrapolated linearly."
    )


if __name__ == "__main__":
    main()
