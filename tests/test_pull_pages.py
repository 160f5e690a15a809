"""The pull pages' rows a server process keeps (``secretariat/pages.py``, issue 25): a page read
through the kept spans is exactly the page the database gives for the same cursor, whatever the
order in which laptops of several regions, cursors and horizons read them, while spans grow,
forget their oldest rows, start afresh or are read around; and the laptops of a region after
the first read their rows from the process, not from the database."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from roundtable.secretariat import create_app, create_event, issue_token, pages
from roundtable.secretariat.repository import open_database

BRANCHES = ("", "africa", "europe", "mena")
DEVICES = ("lap0", "lap1", "lap2", "lap3")


class World:
    """Rows of one event as the database holds them, with a horizon that only moves up."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[tuple] = []
        self.seq = 0
        self.horizon = 1
        self.reads = 0

    def push(self, n: int) -> None:
        for _ in range(n):
            self.seq += self.rng.choice((1, 1, 2, 17))  # gaps, as lost races and xids leave
            branch = self.rng.choice(BRANCHES)
            device = self.rng.choice(DEVICES)
            self.rows.append((self.seq, f"op{self.seq}", "ev", branch, "", "entry", "text",
                              '"x"', "h", device, "[]", None))  # fmt: skip

    def settle(self) -> int:
        """The horizon moves up, at most past the last row: the next one comes after it."""
        self.horizon = max(self.horizon, self.rng.randint(self.horizon, self.seq + 1))
        return self.horizon

    def fetch(self, branch: str, start: int, below: int, n: int, without: str) -> list[tuple]:
        self.reads += 1
        found = [
            r for r in self.rows
            if (branch == pages.ALL or r[3] == branch) and start <= r[0] < below
            and r[9] != without
        ]  # fmt: skip
        return found[:n]

    def page(self, branches: list[str], since: int, limit: int, exclude: str,
             horizon: int) -> list[tuple]:  # fmt: skip
        """What the page query answers: in scope, after ``since``, below the horizon."""
        found = [
            r for r in self.rows
            if (pages.ALL in branches or r[3] in branches) and since < r[0] < horizon
            and r[9] != exclude
        ]  # fmt: skip
        return found[:limit]


@pytest.mark.parametrize("seed", range(6))
def test_pages_through_kept_spans_are_the_database_s_pages(monkeypatch, seed: int) -> None:
    monkeypatch.setattr(pages, "CHUNK", 7)
    monkeypatch.setattr(pages, "MAX_SPANS", 3)  # spans forgotten and made again
    rng = random.Random(seed)
    world = World(rng)
    cache = pages.PageCache(max_rows=30)
    scopes = [["", "africa"], ["", "europe"], ["", "africa", "europe"], [pages.ALL], ["", "mena"]]
    readers = [(rng.choice(scopes), rng.choice(DEVICES), 0) for _ in range(12)]
    old_horizons: list[int] = []
    for step in range(600):
        world.push(rng.randint(0, 6))
        horizon = world.settle()
        if rng.random() < 0.2 and old_horizons:
            horizon = rng.choice(old_horizons)  # a request that read its horizon earlier
        old_horizons = (old_horizons + [horizon])[-5:]
        i = rng.randrange(len(readers))
        scope, device, cursor = readers[i]
        if rng.random() < 0.05:
            cursor = rng.randint(0, max(0, cursor))  # a laptop behind the spans
        limit = rng.randint(1, 25)
        got = pages.page_rows(cache, "ev", scope, cursor, limit, device, horizon, world.fetch)
        wanted = world.page(scope, cursor, limit, device, horizon)
        assert got == wanted, f"seed {seed} step {step}: reader {i} at {cursor}"
        readers[i] = (scope, device, got[-1][0] if got else cursor)


def test_pages_without_a_cache_are_the_database_s_pages() -> None:
    rng = random.Random(7)
    world = World(rng)
    world.push(300)
    horizon = world.settle()
    for _ in range(200):
        since = rng.randint(0, world.seq)
        scope = rng.choice([["", "africa"], [pages.ALL]])
        limit = rng.randint(1, 40)
        got = pages.page_rows(None, "ev", scope, since, limit, "lap1", horizon, world.fetch)
        assert got == world.page(scope, since, limit, "lap1", horizon)


def test_a_region_s_laptops_after_the_first_read_their_rows_from_the_process(
    tmp_path, monkeypatch
) -> None:
    """Twenty rooms of a region pull the same new rows: a server process reads them from the
    database once, then each laptop's page comes from the kept rows; the bytes are those of a
    server that keeps nothing, which reads them again for every laptop."""
    from roundtable.model import Entry, HlcClock, Op, Session, new_id
    from roundtable.protocol import PROTOCOL_VERSION, push_body
    from roundtable.secretariat.repository import Repository

    target = tmp_path / "secretariat.db"
    event_id = create_event(target, "Conference")
    token = issue_token(target, event_id, ["europe"])
    headers = {"Authorization": f"Bearer {token}"}
    client = TestClient(create_app(target))
    devices = [f"lap{i:02d}" for i in range(20)]
    for device in devices:
        clock = HlcClock(device)
        session = Session(id=new_id(), event_id=event_id, region="europe", title=device)
        records = [session] + [
            Entry(id=new_id(), session_id=session.id, entry_kind="need", text=f"{device} {n}")
            for n in range(5)
        ]
        ops = []
        for rec in records:
            for field, value in rec.to_fields().items():
                h = clock.now()
                ops.append(Op(new_id(), event_id, session.id, rec.id, rec.KIND, field, value,
                              h.encode(), h.device))  # fmt: skip
        r = client.post(
            f"/v1/events/{event_id}/ops",
            json=push_body(ops, device),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
    with open_database(target, pooled=False).repository() as repo:
        stored = len(repo.rows("SELECT seq FROM ops"))
    read: list[int] = []
    branch_rows = Repository._branch_rows

    def counted(self, *args):
        rows = branch_rows(self, *args)
        read.append(len(rows))
        return rows

    monkeypatch.setattr(Repository, "_branch_rows", counted)

    def pulls(server: TestClient) -> list[bytes]:
        out = []
        for device in devices:
            r = server.get(
                f"/v1/events/{event_id}/ops",
                params={"since": 0, "limit": 1000, "exclude": device,
                        "protocol": PROTOCOL_VERSION},
                headers=headers,
            )  # fmt: skip
            assert r.status_code == 200
            out.append(r.content)
        return out

    kept = pulls(client)
    assert sum(read) == stored  # every row read once, by the first laptop's page
    read.clear()
    plain = TestClient(create_app(target))
    plain.app.state.database.page_cache = None
    assert pulls(plain) == kept
    assert stored > 1000 and sum(read) >= 20 * 1000  # a page's 1,000 rows for each laptop


@pytest.mark.parametrize(
    ("answer", "page"),
    [
        ({}, 1000),  # a secretariat of before: the pages it served
        ({"max_page": 2000}, 2000),
        ({"max_page": 500}, 500),
        ({"max_page": 10**6}, 2000),  # never more than this laptop asks
        ({"max_page": 0}, 1000),
        ({"max_page": True}, 1000),
        ({"max_page": "2000"}, 1000),
    ],
)
def test_a_laptop_asks_for_the_pages_its_secretariat_serves(answer: dict, page: int) -> None:
    from roundtable.protocol import pull_page_size

    assert pull_page_size({"event_id": "e", **answer}) == page


def test_a_rooms_round_of_its_regions_new_ops_is_one_page(
    live_server, home: Path, monkeypatch
) -> None:
    """Issue 25: the other rooms of a region push ~1,400 ops between two of a laptop's rounds
    at the conference.  The secretariat says it serves pages of 2,000 (``whoami``'s
    ``max_page``) and the laptop asks for them: one pull request a round, not two."""
    import asyncio

    from roundtable.secretariat.repository import Repository
    from roundtable.store import LocalStore
    from roundtable.sync import SyncClient

    event_id = live_server.create_event("Conference")
    token = live_server.token(event_id, ["europe"])
    writer = LocalStore(home / "a")
    asyncio.run(SyncClient(writer, live_server.url, token).sync_once())
    sid = writer.create_session(event_id, "europe", "Room A", [{"title": "Needs"}]).id
    with writer.open_session(sid) as ss:
        for n in range(200):
            ss.add_entry("need", f"Need {n}", delegations=["FR"])
    result = asyncio.run(SyncClient(writer, live_server.url, token).sync_once())
    assert result.error is None and 1000 < result.pushed < 2000
    limits: list[int] = []
    pull_rows = Repository.pull_rows

    def counted(self, event_id, since, limit, *args, **kw):
        limits.append(limit)
        return pull_rows(self, event_id, since, limit, *args, **kw)

    monkeypatch.setattr(Repository, "pull_rows", counted)
    reader = LocalStore(home / "b")
    result = asyncio.run(SyncClient(reader, live_server.url, token).sync_once())
    assert result.error is None and result.pulled > 1000
    assert limits == [2000]  # every op of the round in one page
    with reader.open_session(sid) as ss:
        assert len(ss.records("entry")) == 200
