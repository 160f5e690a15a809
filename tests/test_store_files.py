"""Store files that are damaged or not what they should be, opened with real files:

* a journal cut at any byte: the lines before the cut are all there, the torn line is ignored;
* a view (checkpoint) that is empty, not JSON, JSON of the wrong shape, NUL bytes, not UTF-8 or
  a directory: refused once with one line naming the file and the reason, moved aside (never
  overwritten), rebuilt from the journal with every acknowledged entry;
* a journal with a damaged middle line: refused once, moved aside, the lines before it kept;
* what a read-only open (listing, export) does with the same damage: it reports and changes
  nothing.
(Store versions: tests/test_schema.py.  Torn tails and wrong-shape ops: tests/test_store.py.)"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest
from budget import count

from roundtable.store import CorruptStoreError, LocalStore, StoreError


def make_session(home: Path, entries: int = 6) -> tuple[str, list[str]]:
    store = LocalStore(home)
    event = store.create_event("Conference")
    session = store.create_session(event.id, "europe", "Round table", agenda=[{"title": "A"}])
    with store.open_session(session.id) as ss:
        ids = [ss.add_entry("note", f"Entry {n} ünïcödé 中文").id for n in range(entries)]
    return session.id, ids


def unit(home: Path, sid: str) -> Path:
    return home / "sessions" / sid


def entry_ids(home: Path, sid: str, read_only: bool = False) -> list[str]:
    with LocalStore(home).open_session(sid, read_only=read_only) as ss:
        return [e.id for e in ss.records("entry")]


def files(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != "lock"
    }


def test_journal_cut_at_any_byte_keeps_every_complete_line(tmp_path: Path) -> None:
    source = tmp_path / "source"
    sid, ids = make_session(source)
    journal = (unit(source, sid) / "journal.jsonl").read_bytes()
    ends = [n + 1 for n, b in enumerate(journal) if b == ord("\n")]
    assert len(ends) == 1 + len(ids)  # the session, then one line per entry
    rng = random.Random(11)
    cuts = sorted(set(ends) | {e - 1 for e in ends} | set(rng.sample(range(len(journal)),
                                                                     k=count(40))))  # fmt: skip
    for n, cut in enumerate(cuts):
        if cut < ends[0]:
            continue  # not even the session's own line: nothing to open
        home = tmp_path / f"cut-{n}"
        shutil.copytree(source, home)
        (unit(home, sid) / "view.json").unlink()  # the journal alone must carry the store
        (unit(home, sid) / "journal.jsonl").write_bytes(journal[:cut])
        complete = sum(1 for e in ends[1:] if e <= cut)
        assert entry_ids(home, sid) == ids[:complete], f"cut at byte {cut}"
        # and the store goes on: the torn bytes were cut before the next append
        with LocalStore(home).open_session(sid) as ss:
            ss.add_entry("note", "after the cut")
        assert len(entry_ids(home, sid)) == complete + 1, f"cut at byte {cut}"


VIEW_DAMAGE = {
    "empty": b"",
    "not-json": b"this is not json",
    "truncated": None,  # the first half of the real view
    "a-list": b"[1, 2, 3]",
    "a-number": b"42",
    "records-wrong-shape": b'{"meta": {"1": {"schema": 2}}, "records": {"1": {"id": 5}}}',
    "nul-bytes": b"\x00" * 64,
    "not-utf8": b'{"meta": {"1": {"schema": 2, "x": "\xff\xfe"}}, "records": {}}',
}


@pytest.mark.parametrize("damage", sorted(VIEW_DAMAGE))
def test_damaged_view_is_moved_aside_and_rebuilt(tmp_path: Path, damage: str) -> None:
    home = tmp_path / "home"
    sid, ids = make_session(home)
    view = unit(home, sid) / "view.json"
    data = VIEW_DAMAGE[damage]
    if data is None:
        data = view.read_bytes()[: view.stat().st_size // 2]
    view.write_bytes(data)
    before = files(unit(home, sid))
    with pytest.raises(StoreError) as info:  # a reader reports and touches nothing
        entry_ids(home, sid, read_only=True)
    assert "view.json" in str(info.value) and "\n" not in str(info.value)
    assert files(unit(home, sid)) == before
    with pytest.raises(CorruptStoreError) as info:
        entry_ids(home, sid)
    message = str(info.value)
    assert "view.json" in message and "moved aside" in message and "\n" not in message
    (aside,) = unit(home, sid).glob("view.json.corrupt-*")
    assert aside.read_bytes() == data  # never overwritten
    assert entry_ids(home, sid) == ids  # rebuilt from the journal: nothing acknowledged lost
    assert json.loads(view.read_text(encoding="utf-8"))["meta"]["1"]["schema"] >= 2


def test_view_that_is_a_directory_is_moved_aside(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sid, ids = make_session(home)
    view = unit(home, sid) / "view.json"
    view.unlink()
    view.mkdir()
    (view / "something").write_text("kept")
    with pytest.raises(CorruptStoreError, match=r"view\.json.*moved aside"):
        entry_ids(home, sid)
    (aside,) = unit(home, sid).glob("view.json.corrupt-*")
    assert (aside / "something").read_text() == "kept"
    assert entry_ids(home, sid) == ids


@pytest.mark.parametrize("damage", ["nul-line", "not-utf8", "garbage"])
def test_damaged_journal_middle_keeps_the_lines_before(tmp_path: Path, damage: str) -> None:
    home = tmp_path / "home"
    sid, ids = make_session(home)
    journal = unit(home, sid) / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    bad = {"nul-line": b"\x00" * 40 + b"\n", "not-utf8": b"\xff\xfe{}\n",
           "garbage": b"}{][\n"}[damage]  # fmt: skip
    original = b"".join(lines[:4]) + bad + b"".join(lines[4:])
    journal.write_bytes(original)
    (unit(home, sid) / "view.json").unlink()  # so the journal must be read from the start
    with pytest.raises(CorruptStoreError) as info:
        entry_ids(home, sid)
    message = str(info.value)
    assert "journal.jsonl" in message and "line 5" in message and "\n" not in message
    (aside,) = unit(home, sid).glob("journal.jsonl.corrupt-*")
    assert aside.read_bytes() == original
    assert entry_ids(home, sid) == ids[:3]  # the session line and three entries before it


def test_journal_that_is_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sid, _ = make_session(home)
    journal = unit(home, sid) / "journal.jsonl"
    journal.unlink()
    journal.mkdir()
    with pytest.raises(StoreError) as info:
        entry_ids(home, sid)
    assert "journal.jsonl" in str(info.value) and "\n" not in str(info.value)
    assert journal.is_dir()  # nothing was moved or deleted
