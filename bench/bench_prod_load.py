"""Production load (issue 25): 100 laptops on one event against `roundtable serve` on
PostgreSQL, with 1, 2 and 4 workers.

Run:  python bench/bench_prod_load.py [--laptops 100] [--seconds 60] [--every 2]
            [--workers 1,2,4] [--db postgresql://...] [--json FILE]

The load generator is one asyncio process (light: no local store, the wire protocol spoken
directly): each laptop holds a token of its region (20 rooms in each of the five regions, one
event, as at the conference) and, every ``--every`` seconds (each laptop starting at a random
moment of the first period), runs a sync round as the laptop does: ``whoami``, a push of the ops
of 5 new captures (one batch, an Idempotency-Key; a batch that failed is sent again next round),
then pulls with ``exclude`` from its cursor until nothing more.  Every request is timed.  The
server is the real command (``roundtable serve --workers N``) on a throwaway PostgreSQL cluster
(started here unless ``--db`` names a database), and its CPU time (serve and its workers, and
PostgreSQL's processes) is read from /proc beside the generator's own.

After the load, each laptop pulls until drained and the check is exact: the server holds every
op pushed (0 lost), no laptop received an op twice (0 duplicated), and every laptop received
exactly the ops of its region's other rooms and the event's own.  Prints a Markdown table; exits
1 if anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from roundtable.protocol import PROTOCOL_VERSION as PROTOCOL  # noqa: E402  the laptops' own
from roundtable.protocol import PULL_PAGE_BEFORE, pull_page_size  # noqa: E402

CAPTURES = 5
REGION_KEYS = ("africa", "americas", "asia-pacific", "europe", "mena")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root``, of its children that have exited (its
    cutime/cstime) and of its live descendants, from /proc."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in children(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        if pid == root:
            total += int(fields[13]) + int(fields[14])
    return total / hz


def children(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


class Laptop:
    def __init__(self, n: int, event_id: str, region: str, token: str, rng: random.Random):
        from roundtable.model import HlcClock, Session, new_id

        self.n = n
        self.device = f"bench{n:03d}"
        self.event_id = event_id
        self.region = region
        self.token = token
        self.rng = rng
        self.clock = HlcClock(self.device)
        self.session = Session(id=new_id(), event_id=event_id, region=region, title=f"Room {n}")
        self.pending = self._ops(self.session)  # the session first: its region scopes the rest
        self.key = str(uuid.uuid4())
        self.pushed: set[str] = set()
        self.received: list[str] = []
        self.cursor = 0
        self.page = PULL_PAGE_BEFORE
        self.conn: Connection

    def _ops(self, rec) -> list:
        from roundtable.model import Op

        out = []
        for name, value in rec.to_fields().items():
            h = self.clock.now()
            out.append(
                Op(
                    f"{uuid.uuid4()}",
                    self.event_id,
                    self.session.id,
                    rec.id,
                    rec.KIND,
                    name,
                    value,
                    h.encode(),
                    h.device,
                )  # fmt: skip
            )
        return out

    def capture(self) -> None:
        from roundtable.model import Entry, new_id

        for _ in range(CAPTURES):
            text = f"Training need {self.rng.randrange(10**6)} raised by the delegation"
            entry = Entry(
                id=new_id(), session_id=self.session.id, entry_kind="need", text=text,
                delegations=["GH"],
            )  # fmt: skip
            self.pending += self._ops(entry)


class Connection:
    """One laptop's keep-alive HTTP/1.1 connection to the server, spoken directly over asyncio
    streams.  The generator shares the machine with the server, so it must be lean: httpx's
    pool scans every connection at each request (O(laptops) per request: ~40 % of the
    generator's CPU at 100 laptops) and probes for an async library on every call."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        """(status, body).  A reused connection that the server closed meanwhile (its
        keep-alive timeout) is reopened once and the request sent again, as HTTP clients do;
        any other failure raises."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        data = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            reused = self.writer is not None
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(data)
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError("the server closed the connection")
            except (ConnectionError, OSError):
                self.close()
                if reused and attempt == 0:
                    self.reconnects += 1
                    continue
                raise
            return await self._response(status_line)
        raise AssertionError("unreachable")

    async def _response(self, status_line: bytes) -> tuple[int, bytes]:
        assert self.reader is not None
        try:
            status = int(status_line.split()[1])
            length, chunked, close = 0, False, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    close = b"close" in value.lower()
            if chunked:
                parts = []
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readline()
                await self.reader.readline()
                body = b"".join(parts)
            else:
                body = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body


async def laptop_loop(lap: Laptop, until: float, every: float, samples: dict) -> None:
    from roundtable.protocol import push_body

    headers = {"Authorization": f"Bearer {lap.token}"}
    await asyncio.sleep(lap.rng.random() * every)
    while time.monotonic() < until:
        started_round = time.monotonic()
        lap.capture()
        who = await _timed(lap, "GET", f"/v1/whoami?protocol={PROTOCOL}", "whoami", samples,
                           headers)  # fmt: skip
        if who is not None and who[0] == 200:  # the page the secretariat serves, as the app asks
            lap.page = pull_page_size(json.loads(who[1]))
        batch = lap.pending
        status = await _timed(
            lap, "POST", f"/v1/events/{lap.event_id}/ops", "push", samples,
            {**headers, "Idempotency-Key": lap.key, "Content-Type": "application/json"},
            json.dumps(push_body(batch, lap.device)).encode(),
        )  # fmt: skip
        if status is not None and status[0] == 200:
            lap.pushed |= {o.op_id for o in batch}
            lap.pending = []
            lap.key = str(uuid.uuid4())
        await pull(lap, samples, headers)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started_round)))


async def pull(lap: Laptop, samples: dict | None, headers: dict) -> None:
    while True:
        path = (
            f"/v1/events/{lap.event_id}/ops?since={lap.cursor}&limit={lap.page}&exclude={lap.device}"
            f"&protocol={PROTOCOL}"
        )  # as a laptop asks: in its protocol version (without, version 1's fields only)
        resp = await _timed(lap, "GET", path, "pull", samples, headers)
        if resp is None or resp[0] != 200:
            return
        ids, cursor, more = read_page(resp[1])
        lap.received += ids
        lap.cursor = cursor
        if not more:
            return


OP_ID = re.compile(rb'"op_id":"([^"]*)"')


def read_page(body: bytes) -> tuple[list[str], int, bool]:
    """A pull page's op ids, ``next`` and ``more``, without decoding every op (a full
    ``json.loads`` of ~70,000 ops/s would cost the generator a third of a core).  ``"op_id":"``
    can only be a key: inside a value a quote is escaped."""
    tail = body.rfind(b'],"next":')
    rest = json.loads(b"{" + body[tail + 2 :])
    return [m.decode() for m in OP_ID.findall(body, 0, tail)], rest["next"], rest["more"]


async def _timed(
    lap: Laptop, method: str, path: str, kind: str, samples: dict | None,
    headers: dict[str, str], body: bytes = b"",
) -> tuple[int, bytes] | None:  # fmt: skip
    """One request on the laptop's connection, timed (30 s at most); a failure is recorded and
    the request sent again, up to 3 tries (a laptop's client retries transport errors)."""
    for attempt in range(3):
        started = time.perf_counter()
        try:
            resp = await asyncio.wait_for(lap.conn.request(method, path, headers, body), 30)
        except Exception as exc:
            lap.conn.close()
            if samples is not None:
                took = time.perf_counter() - started
                samples.setdefault(kind, []).append((took, type(exc).__name__))
            if attempt == 2:
                return None
            continue
        if samples is not None:
            took = time.perf_counter() - started
            samples.setdefault(kind, []).append((took, str(resp[0])))
        return resp
    return None


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))] * 1000


def run_once(url: str, workers: int, laptops: int, seconds: float, every: float,
             pg_root: int, seed: int) -> dict:  # fmt: skip
    import httpx

    from roundtable.secretariat import create_event, issue_token

    event_id = create_event(url, f"Bench {uuid.uuid4().hex[:6]}", ends="2999-12-31")
    tokens = {r: issue_token(url, event_id, [r], label=f"{r} rooms") for r in REGION_KEYS}
    rng = random.Random(seed)
    regions = [REGION_KEYS[i % 5] for i in range(laptops)]
    laps = [
        Laptop(i, event_id, r, tokens[r], random.Random(rng.random()))
        for i, r in enumerate(regions)
    ]
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-prod-serve-{port}.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "roundtable", "serve", "--db", url, "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("serve did not start: " + log.read_text(errors="replace")[-2000:])
        time.sleep(0.1)
    time.sleep(1.0)  # every worker up
    samples: dict[str, list[tuple[float, str]]] = {}

    async def load() -> tuple[float, float]:
        for lap in laps:
            lap.conn = Connection("127.0.0.1", port)
        cpu0 = (tree_cpu(server.pid), tree_cpu(pg_root) if pg_root else 0.0,
                resource.getrusage(resource.RUSAGE_SELF))  # fmt: skip
        wall0 = time.monotonic()
        until = wall0 + seconds
        await asyncio.gather(*(laptop_loop(lap, until, every, samples) for lap in laps))
        wall = time.monotonic() - wall0
        me = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (
            tree_cpu(server.pid) - cpu0[0],
            (tree_cpu(pg_root) if pg_root else 0.0) - cpu0[1],
            (me.ru_utime + me.ru_stime) - (cpu0[2].ru_utime + cpu0[2].ru_stime),
        )
        # the last round: whatever failed goes again, then everyone drains
        from roundtable.protocol import push_body

        for lap in laps:
            if lap.pending:
                resp = await _timed(
                    lap, "POST", f"/v1/events/{event_id}/ops", "push", None,
                    {"Authorization": f"Bearer {lap.token}", "Idempotency-Key": lap.key,
                     "Content-Type": "application/json"},
                    json.dumps(push_body(lap.pending, lap.device)).encode(),
                )  # fmt: skip
                if resp is not None and resp[0] == 200:
                    lap.pushed |= {o.op_id for o in lap.pending}
                    lap.pending = []
        for lap in laps:
            await pull(lap, None, {"Authorization": f"Bearer {lap.token}"})
        for lap in laps:
            lap.conn.close()
        return wall, cpu  # type: ignore[return-value]

    wall, cpu = asyncio.run(load())
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()

    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT o.op_id, o.device, COALESCE(s.region, '') FROM ops o "
            "LEFT JOIN sessions s ON s.session_id = o.session_id WHERE o.event_id = %s",
            (event_id,),
        ).fetchall()
    stored = {r[0] for r in rows}
    pushed = set().union(*(lap.pushed for lap in laps))
    lost = len(pushed - stored)
    duplicated = sum(len(lap.received) - len(set(lap.received)) for lap in laps)
    wrong = 0
    for lap in laps:
        expected = {r[0] for r in rows if r[1] != lap.device and r[2] in ("", lap.region)}
        wrong += len(expected ^ set(lap.received))
    left = sum(len(lap.pending) for lap in laps)

    def ok(kind: str) -> list[float]:
        return [t for t, status in samples.get(kind, []) if status == "200"]

    failed: dict[str, dict[str, int]] = {}
    for kind, values in samples.items():
        for _, status in values:
            if status != "200":
                failed.setdefault(kind, {})[status] = failed.get(kind, {}).get(status, 0) + 1
    return {
        "workers": workers,
        "laptops": laptops,
        "seconds": round(wall, 1),
        "rounds": len(samples.get("push", [])),
        "ops_pushed": len(pushed),
        "push_per_s": round(len(ok("push")) / wall, 1),
        "ops_per_s": round(len(pushed) / wall, 1),
        "requests_per_s": round(sum(len(v) for v in samples.values()) / wall, 1),
        "push_p50": round(pct(ok("push"), 50), 1),
        "push_p99": round(pct(ok("push"), 99), 1),
        "pull_p50": round(pct(ok("pull"), 50), 1),
        "pull_p99": round(pct(ok("pull"), 99), 1),
        "whoami_p50": round(pct(ok("whoami"), 50), 1),
        "whoami_p99": round(pct(ok("whoami"), 99), 1),
        "failed": failed,
        "lost": lost,
        "duplicated": duplicated,
        "mismatched": wrong,
        "left_unsent": left,
        "reconnects": sum(lap.conn.reconnects for lap in laps),
        "cpu_serve_s": round(cpu[0], 1),
        "cpu_postgres_s": round(cpu[1], 1),
        "cpu_generator_s": round(cpu[2], 1),
        # what a round costs the server and PostgreSQL: comparable between runs on a shared
        # machine, where the throughput depends on what the others run
        "cpu_ms_per_round": round((cpu[0] + cpu[1]) * 1000 / max(1, len(ok("push"))), 1),
        "loadavg": Path("/proc/loadavg").read_text().split()[0],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--laptops", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between a laptop's rounds")
    ap.add_argument("--workers", default="1,2,4", help="worker counts to run, comma-separated")
    ap.add_argument("--db", default="", help="a postgresql:// database (default: a new cluster)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--seed", type=int, default=25)
    args = ap.parse_args()

    cluster = None
    pg_root = 0
    if args.db:
        url_for = lambda: args.db  # noqa: E731
    else:
        from fixtures_pg import PgCluster, pg_bindir

        bindir = pg_bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found")
        cluster = PgCluster(bindir).start()
        url_for = cluster.new_database
        pg_root = int((cluster.data / "postmaster.pid").read_text().splitlines()[0])
    results = []
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            results.append(
                run_once(
                    url_for(), workers, args.laptops, args.seconds, args.every, pg_root, args.seed
                )  # fmt: skip
            )
            print(json.dumps(results[-1]), file=sys.stderr)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"{args.laptops} laptops, one event, a round every {args.every:g} s "
          f"(whoami, push of {CAPTURES} captures' ops, pull) for {args.seconds:g} s; "
          f"ms at the client; CPU seconds over the load window\n")  # fmt: skip
    print("| workers | pushes/s | ops/s | req/s | push p50/p99 | pull p50/p99 | whoami p50/p99 "
          "| failed | lost | dup | serve CPU s | PostgreSQL CPU s | generator CPU s "
          "| serve+PostgreSQL CPU ms a round | load average |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    bad = False
    for r in results:
        failed = sum(sum(by.values()) for by in r["failed"].values())
        print(f"| {r['workers']} | {r['push_per_s']} | {r['ops_per_s']} | {r['requests_per_s']} "
              f"| {r['push_p50']:.0f} / {r['push_p99']:.0f} | {r['pull_p50']:.0f} / "
              f"{r['pull_p99']:.0f} | {r['whoami_p50']:.0f} / {r['whoami_p99']:.0f} | {failed} "
              f"| {r['lost']} | {r['duplicated']} | {r['cpu_serve_s']} | {r['cpu_postgres_s']} "
              f"| {r['cpu_generator_s']} | {r['cpu_ms_per_round']} | {r['loadavg']} |")  # fmt: skip
        bad |= bool(r["lost"] or r["duplicated"] or r["mismatched"] or r["left_unsent"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    from _figures import record

    for r in results:
        record(
            "prod_load",
            **{f"w{r['workers']}_{k}": v for k, v in r.items() if isinstance(v, int | float)},
            laptops=args.laptops,
            seconds=args.seconds,
        )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
