"""Pull pages written from the stored JSON text (issue 25's load target,
``roundtable/secretariat/rawjson.py``) are the same bytes as the decoded page encoded by
``JSONResponse`` was: for every protocol version a laptop may speak, every page size, with and
without ``exclude``, for readers of different ceilings and regions, over values of every JSON
shape (non-ASCII, quotes, backslashes, control characters, lists, numbers, booleans), edits
with a ``base``, labels moving across ceilings, a withdrawn and restored entry, fields and
values of later protocol versions, and rows stored by older code (values escaped as ASCII,
lists with spaces, no ``wire`` text).  On both engines, through the real route; and a
database of the schema before the ``wire`` column, migrated, gives the same pages."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from roundtable import protocol
from roundtable.model import Entry, Event, HlcClock, Op, Session, new_id
from roundtable.protocol import push_body, withdrawal_op_id
from roundtable.secretariat import create_app, create_event, issue_token, rawjson
from roundtable.secretariat.gate import pull_json, pull_page
from roundtable.secretariat.repository import open_database


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    if request.param == "sqlite":
        return tmp_path / "secretariat.db"
    return request.getfixturevalue("pg_cluster").new_database()


class Laptop:
    def __init__(self, event_id: str, device: str) -> None:
        self.event_id = event_id
        self.clock = HlcClock(device)
        self.device = device

    def op(self, rec_kind: str, record_id: str, session_id: str, field: str, value,
           base: tuple[str, ...] = (), op_id: str | None = None) -> Op:  # fmt: skip
        h = self.clock.now()
        return Op(op_id or new_id(), self.event_id, session_id, record_id, rec_kind, field,
                  value, h.encode(), h.device, base)  # fmt: skip

    def record(self, rec) -> list[Op]:
        sid = "" if rec.KIND == "event" else getattr(rec, "session_id", "") or rec.id
        return [self.op(rec.KIND, rec.id, sid, k, v) for k, v in rec.to_fields().items()]


def _world(target) -> tuple[TestClient, str, dict[str, str], str]:
    """An event with every kind of value and label history the pull path treats apart."""
    event_id = create_event(target, "Wire 2026")
    tokens = {
        "all": issue_token(target, event_id, ["*"], label="secretariat"),
        "green": issue_token(target, event_id, ["*"], label="press", max_tlp="green"),
        "europe": issue_token(target, event_id, ["europe"], label="Europe room"),
    }
    client = TestClient(create_app(target))

    def push(ops: list[Op], device: str, token: str = tokens["all"], label: str | None = None):
        r = client.post(
            f"/v1/events/{event_id}/ops",
            json=push_body(ops, device, label),
            headers={"Authorization": f"Bearer {tokens[token] if token in tokens else token}",
                     "Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        assert r.status_code == 200, r.text

    sec = Laptop(event_id, "sec")
    event = Event(id=event_id, name="Wire 2026", tz="Europe/Vienna")  # tz: protocol 2
    push(sec.record(event), "sec", label="Secretariat \u0627\u0644\u0623\u0645\u0627\u0646\u0629")
    lap = Laptop(event_id, "lap1")
    europe = Session(id=new_id(), event_id=event_id, region="europe", title="Europe \u00e9t\u00e9",
                     number=3, quorum=5)  # fmt: skip
    africa = Session(id=new_id(), event_id=event_id, region="africa", title="Africa")
    texts = [
        'Quote " and backslash \\ end',
        "Arabic \u062a\u062f\u0631\u064a\u0628 and emoji \U0001f600",
        "third",
        "plain text",
    ]
    entries = [
        Entry(id=new_id(), session_id=europe.id, entry_kind="need", text=t,
              delegations=["FR", "DE"], crime_areas=["drugs"], parked=i % 2 == 0)
        for i, t in enumerate(texts)
    ]  # fmt: skip
    ops = lap.record(europe) + [o for e in entries for o in lap.record(e)]
    ops += lap.record(africa)
    push(ops, "lap1", label="Room \u00c9")
    # an edit over two versions (a base of two HLCs), an archived session (protocol 3)
    first = [o for o in ops if o.record_id == entries[3].id and o.field == "text"][0]
    other = Laptop(event_id, "lap2")
    second = other.op("entry", entries[3].id, europe.id, "text", "edited on lap2")
    push([second], "lap2", token="europe")
    merged = lap.op("entry", entries[3].id, europe.id, "text", "merged", (first.hlc, second.hlc))
    archived = lap.op("session", europe.id, europe.id, "status", "archived")
    push([merged, archived], "lap1")
    # labels across the green ceiling: amber then green (restored), green then amber (gone)
    amber_first = entries[0]
    push([lap.op("entry", amber_first.id, europe.id, "tlp", "amber")], "lap1")
    push([lap.op("entry", amber_first.id, europe.id, "tlp", "green")], "lap1")
    push([lap.op("entry", entries[1].id, europe.id, "tlp", "green")], "lap1")
    push([lap.op("entry", entries[1].id, europe.id, "tlp", "amber")], "lap1")
    # a withdrawal (the tombstone of a TLP:RED label, which stays on the laptop), then the
    # entry relabelled lower again
    red = lap.op("entry", entries[2].id, europe.id, "tlp", "red")
    gone = Op(withdrawal_op_id("entry", entries[2].id, red.hlc), event_id, europe.id,
              entries[2].id, "entry", "deleted", True, red.hlc, red.device)  # fmt: skip
    push([gone], "lap1")
    push([lap.op("entry", entries[2].id, europe.id, "tlp", "green")], "lap1")
    # rows as older code stored them: non-ASCII escaped, lists with spaces, a float
    with open_database(target, pooled=False) as database, database.repository() as repo:
        legacy = {
            entries[1].id + ":text": json.dumps(texts[1]),  # ensure_ascii: \u escapes
            entries[0].id + ":delegations": json.dumps(["FR", "DE", "\u00c5L"]),
            entries[3].id + ":priority": "1.5",
            entries[2].id + ":text": json.dumps("tab \t newline \n \x01", ensure_ascii=False),
        }
        # (older code stored no wire text: those rows are written from their columns)
        for key, text in legacy.items():
            rid, field = key.split(":")
            repo._execute("UPDATE ops SET value = ?, wire = NULL WHERE record_id = ? "
                          "AND field = ?", (text, rid, field))  # fmt: skip
        repo._execute("UPDATE ops SET base = ?, wire = NULL WHERE op_id = ?",
                      (json.dumps([first.hlc, second.hlc]), merged.op_id))  # fmt: skip
    return client, event_id, tokens, europe.id


def _get_page(client: TestClient, event_id: str, token: str, since: int, limit: int,
              exclude: str, version: int):  # fmt: skip
    """One pull page as the route sends it (200 asserted)."""
    r = client.get(
        f"/v1/events/{event_id}/ops",
        params={"since": since, "limit": limit, "exclude": exclude, "protocol": version},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return r


def test_pull_bytes_are_the_decoded_pages_bytes(target) -> None:
    client, event_id, tokens, _ = _world(target)
    database = open_database(target, pooled=False)
    compared = 0
    with database.repository() as repo:
        for name, token in tokens.items():
            scope = repo.lookup_token(token)
            assert scope is not None, name
            for version in range(1, protocol.PROTOCOL_VERSION + 1):
                for limit in (5, 1000):
                    for exclude in ("", "lap1"):
                        since, more, pages = 0, True, 0
                        while more:
                            body = pull_json(repo, scope, since, limit, exclude, version)
                            page = pull_page(repo, scope, since, limit, exclude, version)
                            assert body == JSONResponse(page).body, (name, version, since)
                            # and the route sends exactly these bytes
                            r = _get_page(client, event_id, token, since, limit, exclude, version)
                            assert r.content == body
                            assert r.headers["content-type"] == "application/json"
                            since, more = page["next"], page["more"]
                            pages += 1
                            compared += 1
                        assert pages >= (1 if limit == 1000 else 2)
    database.close()
    assert compared > 100


def test_the_world_covers_what_the_raw_path_treats_apart(target) -> None:
    """The pages compared above hold each case: derived ops (a ceiling's tombstone and
    restore), values re-encoded (escapes, lists, a float, a base), values left out for older
    laptops, and values written as stored."""
    _client, _event_id, tokens, sid = _world(target)
    database = open_database(target, pooled=False)
    with database.repository() as repo:
        green = repo.lookup_token(tokens["green"])
        full = repo.lookup_token(tokens["all"])
        assert green is not None and full is not None
        green_ops = pull_page(repo, green, 0, 1000)["ops"]
        all_ops = pull_page(repo, full, 0, 1000)["ops"]
        old_ops = pull_page(repo, full, 0, 1000, version=1)["ops"]
        rows = repo.rows("SELECT value, base, op_id, wire FROM ops")
    database.close()
    assert any(r[3] is None for r in rows) and any(r[3] is not None for r in rows)
    stored = {r[2] for r in rows}
    derived = [o for o in green_ops if o["op_id"] not in stored]
    assert {o["value"] for o in derived} >= {True, False}  # withdrawn for green, restored
    texts = [r[0] for r in rows]
    assert any(t.startswith("[") for t in texts) and "1.5" in texts
    assert any("\\u" in t for t in texts) and any(", " in r[1] for r in rows)
    assert any(rawjson.stored_value(t) == t for t in texts)  # the fast path is taken
    newer = {("event", "tz"), ("session", "number"), ("session", "quorum")}
    assert newer <= {(o["kind"], o["field"]) for o in all_ops}
    assert not newer & {(o["kind"], o["field"]) for o in old_ops}
    assert any(o["field"] == "status" and o["value"] == "archived" for o in all_ops)
    assert not any(o["field"] == "status" and o["value"] == "archived" for o in old_ops)
    assert sid


@pytest.mark.parametrize(
    "value",
    ["plain", "", 'a"b', "a\\b", "line\nbreak", "\x00\x1f\x7f", "\u00e9\u062a\U0001f600",
     "\u2028", 0, -12, 10**20, True, False, None, 1.5, -0.0, 1e300, [], ["a", "b"],
     {"k": [1, "\u00e9"]}],
)  # fmt: skip
def test_a_stored_value_is_written_as_the_page_encoder_writes_it(value) -> None:
    """Whatever encoding stored it (this code's, or older code's ASCII escapes and spaced
    separators), a value goes out as the page's encoder writes the decoded value."""
    expected = rawjson.compact(value)
    for stored in (
        json.dumps(value, ensure_ascii=False),
        json.dumps(value),
        json.dumps(value, indent=1),
    ):
        assert rawjson.stored_value(stored) == expected, stored
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        assert rawjson.stored_base(json.dumps(value)) == expected


@pytest.mark.parametrize("statistics", ["stale", "none"])
def test_a_new_events_label_lookup_is_indexed_by_record_on_stale_statistics(
    pg_cluster, statistics: str
) -> None:
    """Issue 25: a new event is in no column statistics until autovacuum analyses ``ops``
    again; with ``event_id = '<new event>'`` the planner took the event for one row and read
    every op of it through an index on the event alone, for each pull page's label lookup.
    Naming the event as a sub-select (``PostgresRepository.event_is``) keeps the record ids in
    the index condition.  Every lookup of a pull page by record ids is checked: the
    withdrawals' (``field = 'deleted'`` alone) was still planned as a scan of every
    ``deleted`` op of the event, until it was folded into the labels' (``_marks``).  The plans
    are read with EXPLAIN (no timing).  ``none``: a new database in its first minutes, its
    table never analysed: the planner read the event's whole primary key beside the ids (a
    BitmapAnd), until the lookups named the record ids alone (``Repository._mark_rows``); so
    every index condition of these plans holds the ids."""
    import psycopg

    from roundtable.secretariat.repository import TokenScope

    url = pg_cluster.new_database()
    database = open_database(url, pooled=False)
    database.migrate()
    insert = (
        "INSERT INTO ops (event_id, seq, op_id, session_id, record_id, kind, field, value, hlc,"
        " device, base, received_at) SELECT %s, n, %s || n, 's', %s || (n / 15), 'entry',"
        " CASE WHEN n %% 15 = 0 THEN 'tlp' WHEN n %% 15 = 1 THEN %s"
        " ELSE 'f' || (n %% 15) END,"
        " CASE WHEN n %% 15 = 1 THEN 'false' ELSE '\"green\"' END,"
        " lpad(n::text, 15, '0') || '-000000-d', 'd', '[]', 0"
        " FROM generate_series(%s::int, %s::int) n"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE ops SET (autovacuum_enabled = false)")
        # the statistics know the old event only, before any entry of it was deleted
        conn.execute(insert, ("old-event", "old-op-", "old-rec-", "f1", 1, 300))
        if statistics == "stale":
            conn.execute("ANALYZE ops")
        # every entry of the new one has its ``deleted`` op (false), as the app writes it
        conn.execute(insert, ("new-event", "new-op-", "new-rec-", "deleted", 1000, 40_000))
    seen: list[tuple[str, tuple]] = []
    with database.repository() as repo:
        real = repo._rows

        def spying(sql, args=()):
            seen.append((sql, tuple(args)))
            return real(sql, args)

        repo._rows = spying  # type: ignore[method-assign]
        scope = TokenScope("h", "new-event", ("*",), "all")
        items, _cursor, _more = repo.pull_rows("new-event", 0, 200, scope)
        assert len(items) == 200
        lookups = [(s, a) for s, a in seen if "record_id = ANY" in s]
        assert any("'tlp'" in s for s, _a in lookups), seen  # the labels' lookup is one
        plans = [
            "\n".join(r[0] for r in repo.conn.execute("EXPLAIN " + s.replace("?", "%s"), a))
            for s, a in lookups
        ]
    database.close()
    for plan in plans:
        index_conds = [line for line in plan.splitlines() if "Index Cond" in line]
        assert index_conds and all("record_id" in line for line in index_conds), plan


def test_a_push_stores_every_value_as_sent_and_numbers_the_batch_in_order(target) -> None:
    """The push's insert on PostgreSQL sends each column as an array literal built by the
    server (``postgres.text_array``), and numbers the rows in the statement: every value
    (quotes, backslashes, braces, commas, ``NULL``, empty, non-ASCII) is stored as
    ``json.dumps`` wrote it, the batch's rows are numbered in its order, an op sent twice in
    a batch goes in once, a stored op is answered as a duplicate, and a pull gives the ops
    back as sent."""
    event_id = create_event(target, "Values 2026")
    token = issue_token(target, event_id, ["*"], label="secretariat")
    client = TestClient(create_app(target))
    lap = Laptop(event_id, "lap1")
    session = Session(id=new_id(), event_id=event_id, region="europe", title='{"a",b}\\ NULL')
    values = ['a"b', "a\\b", '\\"', "{x,y}", "NULL", "", " lead", "\u00e9\U0001f600"]
    ops = lap.record(session)
    entry = Entry(id=new_id(), session_id=session.id, entry_kind="note", text="x")
    ops += lap.record(entry)
    ops += [lap.op("entry", entry.id, session.id, "text", v) for v in values]
    headers = {"Authorization": f"Bearer {token}"}

    def push(batch: list[Op]) -> dict:
        r = client.post(
            f"/v1/events/{event_id}/ops",
            json=push_body(batch, "lap1"),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text
        return r.json()

    first = push(ops[:-3] + [ops[0]])  # one op twice in the batch
    assert first["accepted"] == [o.op_id for o in ops[:-3]]
    assert first["duplicates"] == []  # its first copy went in
    second = push(ops[-4:])  # one stored op again, three new
    assert second["accepted"] == [o.op_id for o in ops[-3:]]
    assert second["duplicates"] == [ops[-4].op_id]
    with open_database(target, pooled=False) as database, database.repository() as repo:
        rows = repo.rows("SELECT op_id, value, base, seq FROM ops ORDER BY seq")
    sent = {o.op_id for o in ops}
    rows = [r for r in rows if r[0] in sent]  # less the event's own, made by create_event
    assert [r[0] for r in rows] == [o.op_id for o in ops]  # numbered in the batches' order
    assert [r[1] for r in rows] == [json.dumps(o.value, ensure_ascii=False) for o in ops]
    assert all(r[2] == "[]" for r in rows)
    params = {"limit": 1000, "protocol": protocol.PROTOCOL_VERSION}
    r = client.get(f"/v1/events/{event_id}/ops", params=params, headers=headers)
    pulled = [Op.from_dict({k: v for k, v in o.items() if k != "seq"}) for o in r.json()["ops"]]
    assert [o for o in pulled if o.op_id in sent] == ops
    client.close()


def test_text_array_reads_back_as_the_strings(pg_cluster) -> None:
    import psycopg

    from roundtable.secretariat.postgres import text_array

    strings = ['a"b', "a\\b", '\\"', "{x,y}", "NULL", "", " lead ", "\u00e9\U0001f600", "t\tn\n"]
    with psycopg.connect(pg_cluster.new_database(), autocommit=True) as conn:
        row = conn.execute("SELECT %s::text[]", (text_array(strings),)).fetchone()
        assert row is not None and row[0] == strings
        row = conn.execute("SELECT %s::text[]", (text_array([]),)).fetchone()
        assert row is not None and row[0] == []
        plain = ["NULL", "", "{x,y}", " lead ", "\u00e9", "a,b"]  # nothing to escape: one join
        row = conn.execute("SELECT %s::text[]", (text_array(iter(plain)),)).fetchone()
        assert row is not None and row[0] == plain


def _pages(client: TestClient, event_id: str, tokens: dict[str, str]) -> list[bytes]:
    """Every page of every reader, protocol version, page size and ``exclude``, as sent (pages
    of 40 and 1,000: a cursor crossing pages is covered page by page, at 5, by
    ``test_pull_bytes_are_the_decoded_pages_bytes``)."""
    out = []
    for token in tokens.values():
        for version in range(1, protocol.PROTOCOL_VERSION + 1):
            for limit in (40, 1000):
                for exclude in ("", "lap1"):
                    since, more = 0, True
                    while more:
                        r = _get_page(client, event_id, token, since, limit, exclude, version)
                        out.append(r.content)
                        since, more = r.json()["next"], r.json()["more"]
    return out


def test_a_database_of_the_schema_before_wire_text_is_migrated_and_pulls_the_same(
    target,
) -> None:
    """Schema 6 adds ``ops.wire``, schema 7 ``ops.region`` and its index.  A database of
    schema 5 (the world stored, then those dropped and their versions forgotten: what the
    previous code left) is brought forward when the server opens it: its rows keep a NULL
    ``wire`` and are written from their columns, each gets its session's region, and every
    page is the same bytes as before; ops pushed after the migration store their wire text
    and region, and their pages are the decoded pages' bytes."""
    from roundtable.secretariat.repository import SCHEMA_VERSION

    assert SCHEMA_VERSION == 8
    client, event_id, tokens, sid = _world(target)
    before = _pages(client, event_id, tokens)
    client.close()
    with open_database(target, pooled=False) as database, database.repository() as repo:
        repo._execute("DROP INDEX ops_region")
        repo._execute("ALTER TABLE ops DROP COLUMN region")
        repo._execute("ALTER TABLE ops DROP COLUMN wire")
        repo._execute("DELETE FROM schema_version WHERE version > 5")
        assert repo.schema_version() == 5
    client = TestClient(create_app(target))  # migrates at start
    with open_database(target, pooled=False) as database, database.repository() as repo:
        assert repo.schema_version() == SCHEMA_VERSION
        assert repo.rows("SELECT COUNT(*) FROM ops WHERE wire IS NOT NULL") == [(0,)]
        regions = repo.rows(
            "SELECT o.region, s.region, o.session_id FROM ops o LEFT JOIN sessions s "
            "ON s.session_id = o.session_id"
        )
    assert {r[0] for r in regions} == {"", "europe", "africa"}
    assert all(r[0] == (r[1] if r[2] else "") for r in regions)
    assert _pages(client, event_id, tokens) == before
    # new ops after the migration carry their wire text; old and new pages agree
    lap = Laptop(event_id, "lap3")
    entry = Entry(id=new_id(), session_id=sid, entry_kind="issue", text='after "6" \\ \u00e9')
    r = client.post(
        f"/v1/events/{event_id}/ops",
        json=push_body(lap.record(entry), "lap3"),
        headers={"Authorization": f"Bearer {tokens['all']}",
                 "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    with open_database(target, pooled=False) as database, database.repository() as repo:
        assert repo.rows("SELECT COUNT(*) FROM ops WHERE wire IS NOT NULL")[0][0] > 0
        assert repo.rows("SELECT DISTINCT region FROM ops WHERE wire IS NOT NULL") == [("europe",)]
        for name, token in tokens.items():
            scope = repo.lookup_token(token)
            assert scope is not None, name
            for version in range(1, protocol.PROTOCOL_VERSION + 1):
                page = pull_page(repo, scope, 0, 1000, "lap1", version)
                assert pull_json(repo, scope, 0, 1000, "lap1", version) == JSONResponse(page).body
    client.close()


def test_a_regions_page_reads_the_rows_the_events_scan_with_its_scope_reads(target) -> None:
    """A page for a token of some regions merges one ordered scan per region and one for the
    event's own records (schema 7, ``Repository._page_rows``): at every cursor and page size
    it holds exactly the rows of the event's scan with the scope's condition
    (``scope_clause``, what the page read before), with and without ``exclude``."""
    from roundtable.secretariat.repository import OP_COLUMNS, TokenScope, scope_clause

    _client, event_id, _tokens, _sid = _world(target)
    with open_database(target, pooled=False) as database, database.repository() as repo:
        seqs = [r[0] for r in repo.rows("SELECT seq FROM ops ORDER BY seq")]
        compared = 0
        for regions in (("europe",), ("africa",), ("africa", "europe"), ("americas",)):
            scope = TokenScope("h", event_id, regions, "x")
            clause, args = scope_clause(scope)
            for exclude in ("", "lap1"):
                for limit in (1, 7, 1000):
                    for since in [0, *seqs[::3]]:
                        old = repo.rows(
                            f"SELECT {OP_COLUMNS}, wire FROM ops WHERE event_id = ? AND seq > ?"
                            f" AND {clause} AND device <> ? AND seq < {repo.horizon}"
                            " ORDER BY seq LIMIT ?",
                            (event_id, since, *args, exclude, limit),
                        )
                        new = repo._page_rows(event_id, since, limit, scope, exclude)
                        assert [tuple(r) for r in new] == [tuple(r) for r in old]
                        compared += bool(old)
    assert compared > 100
