"""Sync throughput against a real secretariat (uvicorn in a subprocess on 127.0.0.1).

Run: `python bench/bench_sync.py [--changes N] [--single N] [--clients N] [--per-client N]`.
Prints Markdown.

* push N changes (ops) from one laptop in batches of 500 (`SyncClient`, one round);
* push with one request per change: timed on `--single` changes (default 1,000) and
  extrapolated linearly to N (said so in the table);
* pull the N changes into a fresh laptop (pages of 1,000, applied to its journal);
* server throughput: `--clients` laptops (threads, each its own LocalStore and event loop) pushing
  `--per-client` changes each at the same time.
A "change" is one op; a captured entry is ~4 ops.  Target: 10,000 pushed and pulled in < 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from roundtable.store import LocalStore  # noqa: E402
from roundtable.sync import SyncClient  # noqa: E402

AGENDA = [{"title": "Regional needs", "minutes": 30}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`roundtable.secretariat.serve` in a child process, so clients and server don't share
    a GIL (as in production)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        import httpx

        code = (
            "import logging, sys; from roundtable.secretariat import create_app; import uvicorn;"
            f"uvicorn.run(create_app({str(self.db)!r}), host='127.0.0.1', port={self.port},"
            " log_level='warning', access_log=False)"
        )
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the secretariat did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def laptop(home: Path, url: str, token: str, event_id: str, changes: int) -> LocalStore:
    """A laptop that has pulled the event and captured entries until it has ``changes`` ops
    pending (the last entry's ops may overshoot by a few)."""
    store = LocalStore(home)
    run(store, url, token)
    sid = store.create_session(event_id, "europe", f"Europe {home.name}", AGENDA).id
    with store.open_session(sid) as s:
        n = 0
        while s.pending_count() < changes:
            s.add_entry("need", f"Training need {n}", delegations=["FR", "DE"], crime_areas=["cyber"])
            n += 1
    return store


def run(store: LocalStore, url: str, token: str, batch_size: int = 500):
    result = asyncio.run(SyncClient(store, url, token, batch_size=batch_size).sync_once())
    if not result.ok:
        raise RuntimeError(result.summary())
    return result


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--single", type=int, default=1_000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--per-client", type=int, default=500)
    args = ap.parse_args()

    from roundtable.secretariat import create_event, issue_token

    tmp = Path(tempfile.mkdtemp(prefix="rt-bench-sync-"))
    rows: list[tuple[str, str, str]] = []
    try:
        db = tmp / "secretariat.db"
        event_id = create_event(db, "Bench round tables")
        token = issue_token(db, event_id, ["*"], label="bench")
        with Server(db) as server:
            a = laptop(tmp / "a", server.url, token, event_id, args.changes)
            n = a.pending_count()
            t_push, r = timed(lambda: run(a, server.url, token))
            assert r.pushed == n, r.summary()
            rows.append(
                (f"push {n:,} changes, batches of 500", f"{t_push:.2f} s", f"{n / t_push:,.0f}/s")
            )

            b = laptop(tmp / "b", server.url, token, event_id, args.single)
            m = b.pending_count()
            t_single, r = timed(lambda: run(b, server.url, token, batch_size=1))
            assert r.pushed == m, r.summary()
            est = t_single / m * n
            rows.append(
                (
                    f"push one request per change (measured on {m:,}, extrapolated to {n:,})",
                    f"{t_single:.2f} s measured; ~{est:.1f} s for {n:,}",
                    f"{m / t_single:,.0f}/s",
                )
            )

            fresh = LocalStore(tmp / "fresh")
            t_pull, r = timed(lambda: run(fresh, server.url, token))
            rows.append(
                (f"pull {r.pulled:,} changes into a fresh laptop", f"{t_pull:.2f} s",
                 f"{r.pulled / t_pull:,.0f}/s")
            )
            rows.append(
                (f"push {n:,} + pull {r.pulled:,} (target < 5 s)", f"{t_push + t_pull:.2f} s", "")
            )

            stores = [
                laptop(tmp / f"c{i}", server.url, token, event_id, args.per_client)
                for i in range(args.clients)
            ]
            total = sum(s.pending_count() for s in stores)
            errors: list[str] = []

            def push_one(store: LocalStore) -> None:
                try:
                    client = SyncClient(store, server.url, token, batch_size=100)
                    result = asyncio.run(client.sync_once())
                    if not result.ok:
                        errors.append(result.summary())
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(repr(exc))

            threads = [threading.Thread(target=push_one, args=(s,)) for s in stores]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            t_conc = time.perf_counter() - t0
            if errors:
                raise RuntimeError(errors[0])
            rows.append(
                (
                    f"{args.clients} clients at once, {total:,} changes in batches of 100 "
                    "(each round also pulls)",
                    f"{t_conc:.2f} s",
                    f"{total / t_conc:,.0f}/s",
                )
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("| what | time | throughput |")
    print("|---|---|---|")
    for what, t, rate in rows:
        print(f"| {what} | {t} | {rate} |")
    print()
    print(
        "Loopback, server in a child process (uvicorn, SQLite WAL, synchronous=FULL), clients "
        "with `SyncClient`; a change is one op.  Command: `python bench/bench_sync.py`."
    )


if __name__ == "__main__":
    main()
