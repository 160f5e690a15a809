"""The view's index (store view schema 3): a session opens on its index and the records that are
not entries; an entry is read when first needed; what is written back is what was read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roundtable import protocol
from roundtable.model import HlcClock, Op, new_id
from roundtable.store import CorruptStoreError, LocalStore
from roundtable.store.checkpoint import VIEW_SCHEMA, pack, unpack

AGENDA = [
    {"title": "Opening", "minutes": 5, "prompts": [], "item_kind": "opening"},
    {"title": "Drugs", "minutes": 20, "prompts": [], "item_kind": "discussion"},
]


def session_with_entries(home: Path, count: int) -> tuple[str, list[str]]:
    store = LocalStore(home)
    event = store.create_event("Conf")
    sid = store.create_session(event.id, "africa", "Africa RT", AGENDA).id
    ids = []
    with store.open_session(sid) as ss:
        items = ss.records("agenda_item")
        for n in range(count):
            if n in (0, count // 2):
                ss.go_to_item(items[0 if n == 0 else 1].id)
            ids.append(ss.add_entry(("need", "issue")[n % 2], f"Entry {n}", ["GH"]).id)
    return sid, ids


def every_doc(ss) -> dict:
    return {key: ss.unit.doc(*key) for key in list(ss.unit.docs)}


def test_a_session_opens_without_reading_its_entries(tmp_path: Path) -> None:
    sid, ids = session_with_entries(tmp_path, 300)
    view = json.loads((tmp_path / "sessions" / sid / "view.json").read_text(encoding="utf-8"))
    assert view["meta"]["1"]["schema"] == VIEW_SCHEMA
    with LocalStore(tmp_path).open_session(sid, lazy_history=True) as ss:
        assert ss.unit.unread_records == 300  # the index and the agenda, session... only
        counts = ss.entry_counts()
        total, latest = ss.latest_entries(limit=20)
        assert sorted(counts.values()) == [150, 150] and total == 300
        assert [e.text for e in latest] == [f"Entry {n}" for n in range(280, 300)]
        assert ss.unit.unread_records == 280  # the 20 shown were read, no other
        item = ss.records("agenda_item")[1].id
        total, latest = ss.latest_entries(agenda_item=item, entry_kind="issue", limit=5)
        assert total == 75 and [e.text for e in latest][-1] == "Entry 299"
        assert ss.session.title == "Africa RT" and ss.unit.unread_records == 280
        assert ss.load_history_step(10_000)
        while not ss.unit.read_records(100):  # the app reads the rest between frames
            pass
        assert ss.unit.unread_records == 0
        assert len(ss.records("entry")) == 300


def test_what_was_not_read_is_written_back_as_it_was(tmp_path: Path) -> None:
    sid, ids = session_with_entries(tmp_path, 50)
    with LocalStore(tmp_path).open_session(sid) as ss:
        before = every_doc(ss)
    store = LocalStore(tmp_path)
    with store.open_session(sid, lazy_history=True) as ss:
        ss.update("entry", ids[3], text="Edited")  # one entry read and changed, 49 not read
        assert ss.unit.unread_records == 49
        ss.unit.checkpoint(force=True)
    with LocalStore(tmp_path).open_session(sid) as ss:
        after = every_doc(ss)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {("entry", ids[3])}
    assert after[("entry", ids[3])]["fields"]["text"] == "Edited"


def test_a_conflict_survives_the_view_and_is_not_packed(tmp_path: Path) -> None:
    sid, ids = session_with_entries(tmp_path, 4)
    store = LocalStore(tmp_path)
    with store.open_session(sid) as ss:
        base = protocol.field_base(ss.doc("entry", ids[1]), "text")
        other = HlcClock("lap-zz")
        ss.update("entry", ids[1], text="Ours")
        ss.apply_remote([Op(new_id(), ss.event_id, sid, ids[1], "entry", "text", "Theirs",
                            other.now().encode(), "lap-zz", base)])  # fmt: skip
        found = protocol.conflicts(ss.doc("entry", ids[1]))
    with LocalStore(tmp_path).open_session(sid, lazy_history=True) as ss:
        assert not ss.conflict_free("entry", ids[1])
        assert ss.conflict_free("entry", ids[2])
        assert protocol.conflicts(ss.doc("entry", ids[1])) == found
        assert set(ss.conflicted_entries()) == {ids[1]}


def test_a_view_of_schema_2_is_read_and_written_forward(tmp_path: Path) -> None:
    sid, ids = session_with_entries(tmp_path, 20)
    with LocalStore(tmp_path).open_session(sid) as ss:
        before = every_doc(ss)
    path = tmp_path / "sessions" / sid / "view.json"
    data = json.loads(path.read_text(encoding="utf-8"))  # as roundtable wrote it before
    records = {}
    for n, doc in data["records"].items():
        records[n] = unpack(doc, path)
    meta = {k: v for k, v in data["meta"]["1"].items() if k not in ("index_at", "latest_hlc")}
    path.write_text(json.dumps({"meta": {"1": {**meta, "schema": 2}}, "records": records}))
    with LocalStore(tmp_path).open_session(sid) as ss:
        assert every_doc(ss) == before
        assert ss.unit.unread_records == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["meta"]["1"]["schema"] == VIEW_SCHEMA  # written in this version's format
    with LocalStore(tmp_path).open_session(sid) as ss:
        assert every_doc(ss) == before


def test_only_a_record_without_conflict_is_packed() -> None:
    doc = {
        "id": "e1",
        "kind": "entry",
        "fields": {"text": "A", "delegations": ["GH"]},
        "heads": {"text": [["A", "h1"]], "delegations": [[["GH"], "h2"]]},
        "replaced": {},
    }
    packed = pack(doc)
    assert packed["heads"] == "text h1 delegations h2"
    assert unpack(dict(packed), Path("view.json"))["heads"] == doc["heads"]
    two = {**doc, "heads": {"text": [["A", "h3"], ["B", "h1"]]}}
    assert pack(two) is two
    deleted = {**doc, "fields": {**doc["fields"], "deleted": True}}
    assert pack(deleted) is deleted
    differs = {**doc, "heads": {"text": [[1, "h1"]]}, "fields": {"text": True}}
    assert pack(differs) is differs  # True and 1 are two values


@pytest.mark.parametrize("damage", ["index", "entry"])
def test_a_damaged_view_is_named_and_the_journal_rebuilds_it(tmp_path: Path, damage: str) -> None:
    sid, ids = session_with_entries(tmp_path, 30)
    path = tmp_path / "sessions" / sid / "view.json"
    text = path.read_text(encoding="utf-8")
    if damage == "index":
        at = int(json.loads(text)["meta"]["1"]["index_at"])
        path.write_text(text[:at] + "[" + text[at + 1 :], encoding="utf-8")
        with pytest.raises(CorruptStoreError, match="view.json: its index does not read"):
            LocalStore(tmp_path).open_session(sid)
    else:  # one entry's text no longer where the index says: found when it is read
        where = text.index(f'"id":"{ids[-1]}"')
        path.write_text(text[:where] + " " + text[where + 1 :], encoding="utf-8")
        with LocalStore(tmp_path).open_session(sid, lazy_history=True) as ss:
            with pytest.raises(CorruptStoreError) as info:
                ss.latest_entries(limit=5)
            assert "view.json" in str(info.value) and "\n" not in str(info.value)
        (path.parent / "view.json").rename(path.parent / "view.json.aside")
    with LocalStore(tmp_path).open_session(sid) as ss:
        assert [e.text for e in ss.records("entry")][-1] == "Entry 29"
        assert len(ss.records("entry")) == 30


def test_the_view_with_its_index_is_still_a_tinydb_document(tmp_path: Path) -> None:
    from tinydb import TinyDB

    sid, ids = session_with_entries(tmp_path, 12)
    path = tmp_path / "sessions" / sid / "view.json"
    with LocalStore(tmp_path).open_session(sid) as ss:
        records = len(ss.unit.docs)
    db = TinyDB(path, access_mode="r")  # tinydb's own storage, read-only
    try:
        assert db.tables() == {"meta", "records", "index"}
        assert len(db.table("records")) == records
        entries = [d for d in db.table("records") if d["kind"] == "entry"]
        assert sorted(d["id"] for d in entries) == sorted(ids)
    finally:
        db.close()
