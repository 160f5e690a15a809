"""The local store on real files: journal, checkpoint, recovery, lock, undo, outbox, merge."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from roundtable import protocol
from roundtable.model import HlcClock, Op, new_id
from roundtable.store import (
    CorruptStoreError,
    LocalStore,
    SessionLockedError,
    StoreError,
    UnknownSessionError,
)

AGENDA = [
    {"title": "Opening", "minutes": 5, "prompts": ["Welcome"], "item_kind": "opening"},
    {"title": "Drugs", "minutes": 20, "prompts": [], "item_kind": "discussion"},
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def new_session(home: Path, **kw) -> tuple[LocalStore, str]:
    store = LocalStore(home, **kw)
    event = store.find_event("Conf") or store.create_event("Conf")
    return store, store.create_session(event.id, "africa", "Africa RT", AGENDA).id


def unit_dir(home: Path, session_id: str) -> Path:
    return home / "sessions" / session_id


def test_round_trip_and_reopen(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        e = ss.add_entry("need", "Forensics training", ["ZM"], ["cybercrime"], priority="high")
        a = ss.add_entry("action", "Share the list", owner="GH", due="2026-12-15")
        ss.set_attendance("GH", "present", ["ACP Mensah"])
        ss.update("session", sid, facilitator="Ms. Diallo")
    with LocalStore(home).open_session(sid) as ss:
        got = ss.get("entry", e.id)
        assert (got.entry_kind, got.text, got.delegations, got.priority) == (
            "need", "Forensics training", ["ZM"], "high",
        )  # fmt: skip
        assert ss.get("entry", a.id).status == "open"
        assert [x.title for x in ss.records("agenda_item")] == ["Opening", "Drugs"]
        assert ss.records("attendance")[0].delegates == ["ACP Mensah"]
        assert ss.session.facilitator == "Ms. Diallo"
        assert ss.event.name == "Conf"
    summary = LocalStore(home).sessions()[0]
    assert (summary.id, summary.entries, summary.event_name) == (sid, 2, "Conf")


def test_replay_after_crash_without_checkpoint(home: Path) -> None:
    store, sid = new_session(home, checkpoint_every=10_000)
    ss = store.open_session(sid)
    ids = [ss.add_entry("note", f"note {n}").id for n in range(25)]
    # simulate a crash: no close(), no checkpoint; drop the lock as the kernel would
    ss.unit.journal.close()
    ss.unit._release_lock()
    view = json.loads((unit_dir(home, sid) / "view.json").read_text())
    assert not any(d.get("kind") == "entry" for d in view["records"].values())
    with LocalStore(home).open_session(sid) as again:
        assert {e.id for e in again.records("entry")} == set(ids)


def test_torn_last_line_is_ignored_and_cut(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        kept = ss.add_entry("note", "kept").id
    journal = unit_dir(home, sid) / "journal.jsonl"
    with journal.open("ab") as fh:
        fh.write(b'{"v":1,"t":"change","ops":[{"op_id":"half')
    with LocalStore(home).open_session(sid) as ss:
        assert [e.id for e in ss.records("entry")] == [kept]
        ss.add_entry("note", "after the tear")
    lines = journal.read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)  # the torn bytes are gone
    with LocalStore(home).open_session(sid) as ss:
        assert len(ss.records("entry")) == 2


def test_corrupt_middle_line_is_moved_aside_and_good_prefix_kept(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        first = ss.add_entry("note", "first").id
        second = ss.add_entry("note", "second").id
        ss.add_entry("note", "third")
    (unit_dir(home, sid) / "view.json").unlink()  # force a replay from the journal
    journal = unit_dir(home, sid) / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    original = b"".join(lines[:2]) + b"not json at all\n" + b"".join(lines[3:])
    assert len(lines) == 4  # create session, first, second (spoiled), third
    journal.write_bytes(original)
    with pytest.raises(CorruptStoreError) as info:
        LocalStore(home).open_session(sid)
    message = str(info.value)
    assert "journal.jsonl" in message and "line 3" in message and "\n" not in message
    aside = list(unit_dir(home, sid).glob("journal.jsonl.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == original  # preserved, byte for byte
    with LocalStore(home).open_session(sid) as ss:  # the second open continues
        kept = [e.id for e in ss.records("entry")]
    assert first in kept and second not in kept


def test_corrupt_view_is_preserved_and_rebuilt_from_journal(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ids = {ss.add_entry("issue", f"issue {n}").id for n in range(3)}
    view = unit_dir(home, sid) / "view.json"
    view.write_bytes(b'{"records": {"1": {"id": ')
    with pytest.raises(CorruptStoreError) as info:
        LocalStore(home).open_session(sid)
    assert "view.json" in str(info.value)
    aside = list(unit_dir(home, sid).glob("view.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b'{"records": {"1": {"id": '
    with LocalStore(home).open_session(sid) as ss:
        assert {e.id for e in ss.records("entry")} == ids


def test_read_only_open_never_moves_a_corrupt_file(home: Path) -> None:
    store, sid = new_session(home)
    view = unit_dir(home, sid) / "view.json"
    view.write_text("[1, 2, 3]")
    with pytest.raises(CorruptStoreError):
        LocalStore(home).open_session(sid, read_only=True)
    assert view.read_text() == "[1, 2, 3]"
    assert not list(unit_dir(home, sid).glob("*.corrupt-*"))


def test_newer_schema_is_refused(home: Path) -> None:
    store, sid = new_session(home)
    view = unit_dir(home, sid) / "view.json"
    data = json.loads(view.read_text())
    data["meta"]["1"]["schema"] = 99
    view.write_text(json.dumps(data))
    before = view.read_bytes()
    with pytest.raises(StoreError, match="newer roundtable"):
        LocalStore(home).open_session(sid)
    assert view.read_bytes() == before


def test_second_process_is_refused_by_the_lock(home: Path) -> None:
    store, sid = new_session(home)
    code = (
        "import sys\nfrom roundtable.store import LocalStore, SessionLockedError\n"
        "try:\n    LocalStore(sys.argv[1]).open_session(sys.argv[2])\n"
        "except SessionLockedError as e:\n    print(e)\n    sys.exit(3)\n"
    )
    with store.open_session(sid):
        result = subprocess.run(
            [sys.executable, "-c", code, str(home), sid], capture_output=True, text=True
        )
        assert result.returncode == 3
        assert f"pid {os.getpid()}" in result.stdout and "another roundtable" in result.stdout
    with pytest.raises(SessionLockedError):
        with LocalStore(home).open_session(sid):
            LocalStore(home).open_session(sid)
    result = subprocess.run([sys.executable, "-c", code, str(home), sid], capture_output=True)
    assert result.returncode == 0  # released on close


def test_undo_create_edit_delete_persists_across_reopen(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        e = ss.add_entry("issue", "Routes")
        ss.update("entry", e.id, text="Routes via ports")
        ss.delete("entry", e.id)
        assert ss.undo() == "delete issue"
        assert not ss.get("entry", e.id).deleted
    with LocalStore(home).open_session(sid) as ss:
        assert ss.undo().startswith("edit entry")
        assert ss.get("entry", e.id).text == "Routes"
        assert ss.undo() == "add issue"
        assert ss.records("entry") == []
        assert ss.undo() is None  # the session's creation is not undone
        assert ss.session.title == "Africa RT"


def test_outbox_ack_and_remote_ops(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ss.add_entry("note", "one")
        pending = ss.outbox()
        assert ss.pending_count() == len(pending) > 0
        assert ss.mark_acked([o.op_id for o in pending[:3]]) == 3
        assert ss.mark_acked([o.op_id for o in pending[:3]]) == 0
        assert ss.pending_count() == len(pending) - 3
    with LocalStore(home).open_session(sid) as ss:
        assert ss.pending_count() == len(pending) - 3
        assert [o.op_id for o in ss.outbox()] == [o.op_id for o in pending[3:]]
    # ops from another laptop are applied once, whatever the number of deliveries
    other = HlcClock("lap-other")
    entry_id = new_id()
    remote = [
        Op(new_id(), ss.event_id, sid, entry_id, "entry", field, value,
           other.now().encode(), "lap-other")
        for field, value in (("session_id", sid), ("entry_kind", "need"), ("text", "Remote"))
    ]  # fmt: skip
    with LocalStore(home).open_session(sid) as ss:
        assert ss.apply_remote(remote) == 3
        assert ss.apply_remote(remote + remote) == 0
        assert ss.get("entry", entry_id).text == "Remote"
        assert ss.pending_count() == len(pending) - 3  # remote ops are not in the outbox


def test_concurrent_edits_keep_both_versions(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        e = ss.add_entry("issue", "Original")
        base = protocol.field_base(ss.doc("entry", e.id), "text")
        other = HlcClock("lap-zz")
        remote = Op(new_id(), ss.event_id, sid, e.id, "entry", "text", "Theirs",
                    other.now().encode(), "lap-zz", base)  # fmt: skip
        ss.update("entry", e.id, text="Ours")
        ss.apply_remote([remote])
        found = protocol.conflicts(ss.doc("entry", e.id))
        assert "text" in found
        values = {ss.get("entry", e.id).text} | {v for v, _ in found["text"]}
        assert values == {"Ours", "Theirs"}
        ss.update("entry", e.id, text="Agreed")  # an edit made while the conflict shows
        assert protocol.conflicts(ss.doc("entry", e.id)) == {}


def test_failed_append_changes_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ss.add_entry("note", "before")
        journal = unit_dir(home, sid) / "journal.jsonl"
        size = journal.stat().st_size
        real_write = os.write

        def full(fd, data):
            if fd == ss.unit.journal._fd:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", full)
        with pytest.raises(StoreError, match="No space left"):
            ss.add_entry("note", "lost")
        monkeypatch.setattr(os, "write", real_write)
        assert [e.text for e in ss.records("entry")] == ["before"]
        assert journal.stat().st_size == size
        ss.add_entry("note", "after")
    with LocalStore(home).open_session(sid) as ss:
        assert [e.text for e in ss.records("entry")] == ["before", "after"]


def test_bad_values_and_unknown_things(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        with pytest.raises(StoreError, match="expected"):
            ss.update("session", sid, title=42)
        with pytest.raises(StoreError, match="unknown field"):
            ss.update("session", sid, colour="red")
        with pytest.raises(StoreError, match="entry kind"):
            ss.add_entry("rumour", "x")
    with pytest.raises(UnknownSessionError):
        store.resolve_session("ffff")
    assert store.resolve_session(sid[:8]) == sid
    with pytest.raises(StoreError, match="region"):
        store.create_session(store.events()[0].id, "atlantis", "x", [])
    with pytest.raises(StoreError, match="already exists"):
        store.create_event("conf")


def test_capture_cost_is_independent_of_other_sessions(home: Path) -> None:
    """Structural: a write touches only its own session's directory."""
    store, sid = new_session(home)
    for _ in range(5):
        new_session(home)
    before = {p: p.stat().st_mtime_ns for p in (home / "sessions").rglob("*") if p.is_file()}
    with store.open_session(sid) as ss:
        ss.add_entry("note", "only here")
    after = {p: p.stat().st_mtime_ns for p in (home / "sessions").rglob("*") if p.is_file()}
    changed = {p.parent.name for p in after if before.get(p) != after[p]}
    assert changed == {sid}
