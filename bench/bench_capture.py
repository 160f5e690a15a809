"""Capture latency: one `add_entry` (journal append + fsync) against the alternatives.

Run: `python bench/bench_capture.py [--captures N] [--dir DIR]`.  Prints Markdown.

For 100 / 1,000 / 5,000 entries already in the session, it times N captures of a realistic
entry with:
* roundtable's store (one journal line of ~10 ops, appended and fsynced; view in memory);
* tinydb's stock JSONStorage, one `insert` per capture (it reads and rewrites the whole file);
* tinydb on an in-memory storage (no file at all), to show why captures bypass tinydb;
* sqlite3, one INSERT + COMMIT per capture, WAL with synchronous=FULL (durable, like ours).
Then the same roundtable capture with 50 other sessions in the event, the same capture in an
encrypted session (issue 14: each journal line sealed with AES-GCM, the view sealed whole at each
checkpoint), and the export time of a 1,000-entry session when roundtable.minutes exists.  The
target: p99 < 10 ms at 5,000 entries, encrypted or not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import record  # noqa: E402

from roundtable.model import Entry, new_id  # noqa: E402
from roundtable.store import LocalStore  # noqa: E402

LEVELS = (100, 1_000, 5_000)
AGENDA = [{"title": "Drug routes", "minutes": 30}, {"title": "Regional needs", "minutes": 30}]


def entry_fields(n: int) -> dict:
    """What a facilitator types: a need with two delegations, a tag and a priority."""
    return {
        "entry_kind": "need",
        "text": f"Training on cyber forensics for NCB staff, with hands-on labs (item {n})",
        "delegations": ["ZM", "GH"],
        "crime_areas": ["cybercrime"],
        "priority": "high",
    }


def entry_doc(n: int) -> dict:
    """The same entry as a plain record, for tinydb and sqlite."""
    entry = Entry(id=new_id(), session_id=new_id(), created_at="2026-11-28T10:00:00+00:00")
    doc = entry.to_fields() | entry_fields(n)
    doc["id"] = entry.id
    return doc


def timed(fn: Callable[[int], object], start: int, count: int) -> list[float]:
    out = []
    for n in range(start, start + count):
        t0 = time.perf_counter()
        fn(n)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def stats(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99, ordered[-1]


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------


PASSPHRASE = "bench passphrase"


def bench_roundtable(
    base: Path, captures: int, others: int = 0, encrypted: bool = False
) -> dict[int, list[float]]:
    store = LocalStore(base / "rt")
    event = store.find_event("Bench") or store.create_event("Bench")
    for k in range(others):  # other sessions in the event, each with some entries
        other = store.create_session(event.id, "europe", f"Other {k}", AGENDA)
        with store.open_session(other.id) as ss:
            for n in range(100):
                ss.add_entry(**entry_fields(n))
    session = store.create_session(
        event.id,
        "africa",
        "Bench round table",
        AGENDA,
        passphrase=PASSPHRASE if encrypted else None,
    )
    results: dict[int, list[float]] = {}
    with store.open_session(session.id) as ss:
        have = 0
        for level in LEVELS:
            while have < level - captures // 2:
                ss.add_entry(**entry_fields(have))
                have += 1
            results[level] = timed(lambda n: ss.add_entry(**entry_fields(n)), have, captures)
            have += captures
    return results


def bench_tinydb_file(base: Path, captures: int) -> dict[int, list[float]]:
    from tinydb import TinyDB

    results: dict[int, list[float]] = {}
    for level in LEVELS:
        path = base / f"tinydb-{level}.json"
        db = TinyDB(path)  # stock JSONStorage
        db.insert_multiple(entry_doc(n) for n in range(level - captures // 2))  # one write
        results[level] = timed(lambda n, db=db: db.insert(entry_doc(n)), level, captures)
        db.close()
    return results


def bench_tinydb_memory(captures: int) -> dict[int, list[float]]:
    from tinydb import TinyDB
    from tinydb.storages import MemoryStorage

    results: dict[int, list[float]] = {}
    for level in LEVELS:
        db = TinyDB(storage=MemoryStorage)
        db.insert_multiple(entry_doc(n) for n in range(level - captures // 2))
        results[level] = timed(lambda n, db=db: db.insert(entry_doc(n)), level, captures)
    return results


def bench_sqlite(base: Path, captures: int) -> dict[int, list[float]]:
    results: dict[int, list[float]] = {}
    for level in LEVELS:
        conn = sqlite3.connect(base / f"sqlite-{level}.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO entries VALUES (?, ?)",
            ((d["id"], json.dumps(d)) for d in map(entry_doc, range(level - captures // 2))),
        )
        conn.execute("COMMIT")

        def insert(n: int, conn: sqlite3.Connection = conn) -> None:
            d = entry_doc(n)
            conn.execute("BEGIN")
            conn.execute("INSERT INTO entries VALUES (?, ?)", (d["id"], json.dumps(d)))
            conn.execute("COMMIT")

        results[level] = timed(insert, level, captures)
        conn.close()
    return results


def bench_open(base: Path) -> list[str]:
    """What the facilitator waits for: opening a session, its first capture, closing it."""
    lines = [
        "| entries in the session | open (lock, view, journal history) | first capture | "
        "close (checkpoint) | list sessions | the app's open (view only) | "
        "its history, in 100-line slices (as the app) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    home = base / "open"
    store = LocalStore(home)
    event = store.create_event("Open bench")
    session = store.create_session(event.id, "africa", "Open round table", AGENDA)
    have = 0
    for level in (1_000, 5_000):
        with store.open_session(session.id) as ss:
            while have < level:
                ss.add_entry(**entry_fields(have))
                have += 1
            ss.add_entry(**entry_fields(have))  # leave something for the next open to replay
            have += 1
        t0 = time.perf_counter()
        ss = LocalStore(home).open_session(session.id)
        t1 = time.perf_counter()
        ss.add_entry(**entry_fields(have))
        have += 1
        t2 = time.perf_counter()
        ss.close()
        t3 = time.perf_counter()
        LocalStore(home).sessions()
        t4 = time.perf_counter()
        app_store = LocalStore(home).open_session(session.id, lazy_history=True)
        t5 = time.perf_counter()
        slices = 1
        while not app_store.load_history_step(100):
            slices += 1
        t6 = time.perf_counter()
        app_store.close()
        lines.append(
            f"| {level:,} | {(t1 - t0) * 1000:.0f} ms | {(t2 - t1) * 1000:.1f} ms | "
            f"{(t3 - t2) * 1000:.0f} ms | {(t4 - t3) * 1000:.0f} ms | "
            f"{(t5 - t4) * 1000:.0f} ms | {(t6 - t5) * 1000:.0f} ms ({slices} slices) |"
        )
    return lines


def bench_open_encrypted(base: Path) -> list[str]:
    """Opening a 5,000-entry session, plain and encrypted: the key derivation (scrypt, once per
    open), the open (the view decrypted whole) and the close (the view sealed whole)."""
    lines = [
        "| 5,000 entries | unlock (scrypt) | open (lock, view, journal history) | first capture | "
        "close (checkpoint) |",
        "|---|---:|---:|---:|---:|",
    ]
    for encrypted in (False, True):
        home = base / ("open-enc" if encrypted else "open-plain")
        store = LocalStore(home)
        event = store.create_event("Open bench")
        session = store.create_session(
            event.id, "africa", "Open", AGENDA, passphrase=PASSPHRASE if encrypted else None
        )
        with store.open_session(session.id) as ss:
            for n in range(5_001):
                ss.add_entry(**entry_fields(n))
        fresh = LocalStore(home)
        t0 = time.perf_counter()
        if encrypted:
            fresh.unlock(session.id, PASSPHRASE)
        t1 = time.perf_counter()
        ss = fresh.open_session(session.id)
        t2 = time.perf_counter()
        ss.add_entry(**entry_fields(0))
        t3 = time.perf_counter()
        ss.close()
        t4 = time.perf_counter()
        unlock = f"{(t1 - t0) * 1000:.0f} ms" if encrypted else "—"
        lines.append(
            f"| {'encrypted' if encrypted else 'plain'} | {unlock} | {(t2 - t1) * 1000:.0f} ms | "
            f"{(t3 - t2) * 1000:.1f} ms | {(t4 - t3) * 1000:.0f} ms |"
        )
    return lines


def bench_export(base: Path) -> str:
    try:
        from roundtable import minutes
    except ImportError:
        return "Export: skipped (roundtable.minutes is not there yet)."
    store = LocalStore(base / "export")
    event = store.create_event("Export bench")
    session = store.create_session(event.id, "africa", "Export round table", AGENDA)
    with store.open_session(session.id) as ss:
        for n in range(1_000):
            kind = ("issue", "need", "action", "decision", "note")[n % 5]
            fields = entry_fields(n) | {"entry_kind": kind}
            if kind in ("decision", "note"):
                fields["priority"] = ""
            if kind == "action":
                fields |= {"owner": "GH", "due": "2026-12-15"}
            ss.add_entry(**fields)
        countries = {"GH": "Ghana", "ZM": "Zambia"}
        t0 = time.perf_counter()
        snap = ss.snapshot(countries)
        t1 = time.perf_counter()
        text = minutes.render_markdown(snap)
        t2 = time.perf_counter()
        html = minutes.render_html(snap)
        t3 = time.perf_counter()
    return (
        f"Export of a 1,000-entry session: snapshot {(t1 - t0) * 1000:.0f} ms, Markdown "
        f"{(t2 - t1) * 1000:.0f} ms ({len(text):,} characters), HTML {(t3 - t2) * 1000:.0f} ms "
        f"({len(html):,} characters)."
    )


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=200, help="timed captures per level")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="rt-bench-", dir=args.dir))
    try:
        progress("roundtable store ...")
        rt = bench_roundtable(base / "alone", args.captures)
        progress("roundtable store with 50 other sessions ...")
        crowded = bench_roundtable(base / "crowded", args.captures, others=50)
        progress("roundtable store, encrypted session ...")
        sealed = bench_roundtable(base / "encrypted", args.captures, encrypted=True)
        progress("tinydb JSONStorage ...")
        tdb = bench_tinydb_file(base, args.captures)
        progress("tinydb MemoryStorage ...")
        tmem = bench_tinydb_memory(args.captures)
        progress("sqlite3 ...")
        sql = bench_sqlite(base, args.captures)
        progress("open and close ...")
        opening = bench_open(base)
        progress("open and close, encrypted ...")
        opening_sealed = bench_open_encrypted(base)
        progress("export ...")
        export = bench_export(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    rows = [
        ("roundtable store (journal append + fsync)", rt),
        ("roundtable store, 50 other sessions in the event", crowded),
        ("roundtable store, encrypted session (AES-GCM line, sealed view)", sealed),
        ("tinydb JSONStorage, one insert", tdb),
        ("tinydb MemoryStorage, one insert (no disk)", tmem),
        ("sqlite3 WAL synchronous=FULL, INSERT + COMMIT", sql),
    ]
    print(f"Per-capture latency in ms (median / p99 / max of {args.captures} captures), one")
    print("entry with ~10 fields, at the number of entries already in the session.  The")
    print("roundtable max includes the checkpoint written inline every 200 changes (in the app")
    print("the idle checkpoint, every 15 s, normally gets there first):")
    print()
    print("| store | " + " | ".join(f"{level:,} entries" for level in LEVELS) + " |")
    print("|---|" + "---:|" * len(LEVELS))
    for name, result in rows:
        cells = []
        for level in LEVELS:
            median, p99, worst = stats(result[level])
            cells.append(f"{median:.2f} / {p99:.2f} / {worst:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    _, p99, _ = stats(rt[5_000])
    record(
        "capture",
        roundtable_p99_ms=p99,
        crowded_p99_ms=stats(crowded[5_000])[1],
        encrypted_p99_ms=stats(sealed[5_000])[1],
        tinydb_p99_ms=stats(tdb[5_000])[1],
        sqlite_p99_ms=stats(sql[5_000])[1],
        captures=args.captures,
    )
    verdict = "met" if p99 < 10 else "NOT met"
    print(f"Target p99 < 10 ms at 5,000 entries: {verdict} ({p99:.2f} ms).")
    sealed_p99 = stats(sealed[5_000])[1]
    verdict = "met" if sealed_p99 < 10 else "NOT met"
    print(f"Encrypted session, same target: {verdict} ({sealed_p99:.2f} ms).")
    print()
    print("Opening and closing a session (one trial each):")
    print()
    print("\n".join(opening))
    print()
    print("Opening an encrypted session (one trial each):")
    print()
    print("\n".join(opening_sealed))
    print()
    print(export)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
