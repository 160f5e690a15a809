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
from roundtable.store.journal import decode_line, encode_line

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
    assert all(decode_line(line) for line in lines)  # the torn bytes are gone
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


# ---------------------------------------------------------------------------------------------
# Registry, read-only opens, clock, checkpoints
# ---------------------------------------------------------------------------------------------


def test_read_only_open_beside_the_writer_leaves_it_open(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as writer:
        writer.add_entry("note", "one")
        with store.open_session(sid, read_only=True) as reader:  # same LocalStore, no lock
            assert [e.text for e in reader.records("entry")] == ["one"]
            with pytest.raises(StoreError, match="read-only"):
                reader.add_entry("note", "refused")
        writer.add_entry("note", "two")  # closing the reader did not close the writer
    with LocalStore(home).open_session(sid, read_only=True) as reader:
        assert [e.text for e in reader.records("entry")] == ["one", "two"]


def test_local_store_routes_remote_ops_through_open_units(home: Path) -> None:
    store, sid = new_session(home)
    other = HlcClock("lap-other")
    with store.open_session(sid) as ss:
        event_id = ss.event_id
        assert [u[1] for u in store.units()] == ["", sid]
        assert store.pending_count() > ss.pending_count() > 0  # the event unit counts too
        entry_id, pulled_session = new_id(), new_id()
        ops = [
            Op(new_id(), event_id, sid, entry_id, "entry", "text", "pulled",
               other.now().encode(), "lap-other"),
            Op(new_id(), event_id, pulled_session, pulled_session, "session", "title",
               "Pulled RT", other.now().encode(), "lap-other"),
            Op(new_id(), event_id, pulled_session, pulled_session, "session", "event_id",
               event_id, other.now().encode(), "lap-other"),
        ]  # fmt: skip
        assert store.apply_remote(ops) == 3  # the open session's unit, no second flock
        assert ss.get("entry", entry_id).text == "pulled"
        assert store.apply_remote(ops) == 0
    titles = sorted(s.title for s in LocalStore(home).sessions())
    assert titles == ["Africa RT", "Pulled RT"]  # a unit was created for the pulled session
    with LocalStore(home).open_session(pulled_session) as ss:
        assert ss.pending_count() == 0 and ss.session.title == "Pulled RT"


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy-history"])
def test_clock_never_goes_backwards_across_reopen(home: Path, lazy: bool) -> None:
    fast = 2_000_000_000.0  # a clock in 2033
    store, sid = new_session(home, wall=lambda: fast)
    with store.open_session(sid) as ss:
        ss.add_entry("note", "written with a fast clock")
        last = ss.outbox()[-1].hlc
    device = LocalStore(home).device
    fixed = LocalStore(home, clock=HlcClock(device, lambda: fast - 3600))
    # the view's latest timestamp is observed when the next one is issued, not at open
    with fixed.open_session(sid, lazy_history=lazy) as ss:
        ss.add_entry("note", "written after the clock was put back")
        assert ss.outbox()[-1].hlc > last


def test_unknown_fields_survive_checkpoint_and_reopen(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        entry = ss.add_entry("note", "Seen by a newer version")
        hlc = HlcClock("lap-newer").now().encode()
        op = Op(new_id(), ss.event_id, sid, entry.id, "entry", "mood", "calm", hlc, "lap-newer")
        assert ss.apply_remote([op]) == 1
    with LocalStore(home).open_session(sid) as ss:
        assert ss.doc("entry", entry.id)["fields"]["mood"] == "calm"
        assert ss.get("entry", entry.id).text == "Seen by a newer version"


def test_checkpoint_every_n_and_view_alone_is_current(home: Path) -> None:
    """After a checkpoint the view alone (nothing left to replay) holds every change, also the
    records edited after an earlier checkpoint (the per-record encoding cache is invalidated)."""
    store, sid = new_session(home, checkpoint_every=4)
    journal, view = unit_dir(home, sid) / "journal.jsonl", unit_dir(home, sid) / "view.json"
    ss = store.open_session(sid)
    try:
        first = ss.add_entry("note", "first")
        for n in range(3):
            ss.add_entry("note", f"n{n}")
        meta = json.loads(view.read_text(encoding="utf-8"))["meta"]["1"]
        assert meta["journal_offset"] == journal.stat().st_size  # the 4th change checkpointed
        ss.update("entry", first.id, text="first, edited")
        assert json.loads(view.read_text(encoding="utf-8"))["meta"]["1"]["journal_offset"] < (
            journal.stat().st_size
        )
        ss.checkpoint()  # what the app calls when idle
        data = json.loads(view.read_text(encoding="utf-8"))
        assert data["meta"]["1"]["journal_offset"] == journal.stat().st_size
        texts = {d["fields"].get("text") for d in data["records"].values() if d["kind"] == "entry"}
        assert texts == {"first, edited", "n0", "n1", "n2"}
    finally:
        ss.close()


def test_stale_checkpoint_temp_files_are_removed(home: Path) -> None:
    store, sid = new_session(home)
    stale = unit_dir(home, sid) / ".view.json.tmp-999999"
    stale.write_bytes(b'{"half": ')
    LocalStore(home).open_session(sid).close()
    assert not stale.exists()


# ---------------------------------------------------------------------------------------------
# More failures: a real full disk, journals of the wrong shape or version
# ---------------------------------------------------------------------------------------------


def test_file_size_limit_on_append_raises_and_changes_nothing(home: Path) -> None:
    """A real failing write (RLIMIT_FSIZE, the kernel's EFBIG), cut off part-way."""
    import resource
    import signal

    store, sid = new_session(home)
    journal = unit_dir(home, sid) / "journal.jsonl"
    with store.open_session(sid) as ss:
        ss.add_entry("note", "before")
        size = journal.stat().st_size
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, hard))
        try:
            with pytest.raises(StoreError, match=r"journal\.jsonl: not saved.*nothing was changed"):
                ss.add_entry("issue", "x" * 500)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, handler)
        assert journal.stat().st_size == size  # the partial line was cut off again
        assert [e.text for e in ss.records("entry")] == ["before"]
        ss.add_entry("note", "after")
    with LocalStore(home).open_session(sid) as ss:
        assert [e.text for e in ss.records("entry")] == ["before", "after"]


def test_journal_line_of_the_wrong_shape_is_corruption_not_a_crash(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ss.add_entry("note", "kept")
        ss.add_entry("note", "after the bad line")
    journal = unit_dir(home, sid) / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    bad = encode_line({"v": 2, "t": "change", "ops": [{"op_id": "x"}]})  # not our op shape
    journal.write_bytes(b"".join(lines[:2]) + bad + b"".join(lines[2:]))
    (unit_dir(home, sid) / "view.json").unlink()
    with pytest.raises(CorruptStoreError, match=r"journal\.jsonl.*wrong shape.*moved aside"):
        LocalStore(home).open_session(sid)
    with LocalStore(home).open_session(sid) as ss:
        assert [e.text for e in ss.records("entry")] == ["kept"]


def test_journal_from_a_newer_version_is_refused(home: Path) -> None:
    store, sid = new_session(home)
    journal = unit_dir(home, sid) / "journal.jsonl"
    with journal.open("ab") as f:
        f.write(encode_line({"v": 99, "t": "change", "ops": []}))
    before = journal.read_bytes()
    with pytest.raises(StoreError, match="written by a newer roundtable"):
        LocalStore(home).open_session(sid)
    assert journal.read_bytes() == before and not list(journal.parent.glob("*.corrupt-*"))


def test_undo_of_attendance_and_bad_entry_values(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ss.set_attendance("GH", "present")
        ss.set_attendance("GH", "apologies", ["Insp. Mensah"])
        assert ss.undo() == "attendance GH"
        att = ss.records("attendance")[0]
        assert (att.status, att.delegates) == ("present", [])
        assert ss.undo() == "attendance GH"
        assert ss.records("attendance") == []
        with pytest.raises(StoreError, match="unknown priority 'urgent'"):
            ss.add_entry("issue", "x", priority="urgent")
        with pytest.raises(StoreError, match="unknown status 'maybe'"):
            ss.add_entry("action", "x", status="maybe")
        with pytest.raises(StoreError, match="needs some text"):
            ss.add_entry("issue", "  ")
        assert ss.records("entry") == []


def test_pending_count_from_the_checkpoint_matches_the_history(home: Path) -> None:
    """Listing reads the count from view meta + the journal tail; a writer counts the history."""
    store, sid = new_session(home, checkpoint_every=3)
    with store.open_session(sid) as ss:
        for n in range(4):
            ss.add_entry("note", f"n{n}")
        assert ss.mark_acked([o.op_id for o in ss.outbox(limit=5)]) == 5
        ss.add_entry("note", "after the last checkpoint")
        expected = ss.pending_count()
        with store.open_session(sid, read_only=True) as reader:
            assert reader.pending_count() == expected  # meta + replayed tail
            assert len(reader.outbox()) == expected  # the full history
        (event_journal,) = (home / "events").glob("*/journal.jsonl")
        lines = event_journal.read_bytes().splitlines()
        assert store.pending_count() == expected + sum(len(decode_line(x)["ops"]) for x in lines)


def test_a_partial_line_left_behind_is_cut_before_the_next_append(home: Path) -> None:
    """If a failed append could not cut its partial line back, the next append does it first."""
    store, sid = new_session(home)
    journal = unit_dir(home, sid) / "journal.jsonl"
    with store.open_session(sid) as ss:
        ss.add_entry("note", "one")
        with journal.open("ab") as f:
            f.write(b'{"v":1,"t":"chan')
        ss.add_entry("note", "two")
    assert all(decode_line(line) for line in journal.read_bytes().splitlines())
    with LocalStore(home).open_session(sid) as ss:
        assert [e.text for e in ss.records("entry")] == ["one", "two"]
    assert not list(journal.parent.glob("*.corrupt-*"))


def test_entry_counts_and_latest_entries_agree_with_the_records(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        items = [i.id for i in ss.records("agenda_item")]
        kinds = ("issue", "need", "action", "decision", "note")
        made = []
        for n in range(40):
            made.append(ss.add_entry(kinds[n % 5], f"Entry {n}", agenda_item=items[n % len(items)]))
        ss.add_entry("note", "No item", agenda_item="")
        ss.delete("entry", made[3].id)
        ss.update("entry", made[7].id, entry_kind="issue", agenda_item=items[0])
        entries = ss.records("entry")  # the slow way, as the minutes read them
        expected_counts: dict[str, int] = {}
        for e in entries:
            expected_counts[e.agenda_item] = expected_counts.get(e.agenda_item, 0) + 1
        assert ss.entry_counts() == expected_counts
        assert made[3].id not in {e.id for e in entries}
        for item in (None, items[0], items[1], ""):
            for kind in (None, "issue", "note"):
                want = [
                    e
                    for e in entries
                    if (item is None or e.agenda_item == item)
                    and (kind is None or e.entry_kind == kind)
                ]
                for limit in (0, 3, 400):
                    total, latest = ss.latest_entries(
                        agenda_item=item, entry_kind=kind, limit=limit
                    )
                    assert total == len(want)
                    assert latest == (want[-limit:] if limit else [])


def test_the_sessions_list_reads_each_summary_only_while_it_is_current(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import roundtable.store as store_module

    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        made = [ss.add_entry("issue", f"Issue {n}", ["GH"]) for n in range(12)]
        ss.delete("entry", made[0].id)
    summary_file = unit_dir(home, sid) / "summary.json"
    assert summary_file.exists()  # written with the checkpoint at close

    def listing() -> list:
        return LocalStore(home).sessions()

    views_read: list[Path] = []
    real_init = store_module.Unit.__init__

    def counting_init(self, path, *args, **kwargs):
        if kwargs.get("read_only") and path.parent.name == "sessions":
            views_read.append(path)
        real_init(self, path, *args, **kwargs)

    monkeypatch.setattr(store_module.Unit, "__init__", counting_init)
    from_summary = listing()
    assert views_read == []  # the view was not read
    assert from_summary[0].entries == 11 and from_summary[0].title == "Africa RT"
    assert from_summary[0].event_name == "Conf"
    summary_file.unlink()
    from_view = listing()
    assert views_read == [unit_dir(home, sid)]
    assert from_summary == from_view  # the same line either way

    # a capture not yet checkpointed: the journal is longer than the summary says
    with LocalStore(home).open_session(sid) as ss:
        ss.add_entry("need", "Training")
        views_read.clear()
        (row,) = listing()
        assert row.entries == 12 and views_read == [unit_dir(home, sid)]
    (row,) = listing()  # closed: checkpointed, summary current again
    assert row.entries == 12 and len(views_read) == 1

    # a summary that is not JSON, or of another shape, is ignored
    for junk in (b"\x00garbage", b'{"schema": 2}', b"[]"):
        summary_file.write_bytes(junk)
        assert listing() == [row]

    # a view replaced after the summary was written: the summary no longer describes it
    with LocalStore(home).open_session(sid) as ss:
        ss.add_entry("note", "Checkpointed")
    view = unit_dir(home, sid) / "view.json"
    view.write_bytes(b"not json")
    store = LocalStore(home)
    assert store.sessions() == []
    assert "view.json" in store.skipped[0]


# ---------------------------------------------------------------------------------------------
# The outbox interface (what sync uses; roundtable.store.outbox)
# ---------------------------------------------------------------------------------------------


def test_pending_is_counted_without_opening_a_unit_and_matches_the_unit(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roundtable.store import unit as unit_module
    from roundtable.store.summary import read_pending

    store, sid = new_session(home)
    path = unit_dir(home, sid)
    with store.open_session(sid) as ss:
        ss.add_entry("need", "Training", ["GH"])
        at_close = ss.pending_count()
    assert read_pending(path) == at_close  # the summary, the journal exactly as it covers
    with LocalStore(home).open_session(sid, lazy_history=True) as ss:
        ss.unit.checkpoint_every = 10_000  # no checkpoint: the captures stay past the view
        ss.add_entry("note", "past the checkpoint")
        ss.add_entry("note", "and another")
        expected = ss.pending_count()
        ss.unit.journal.close()
        ss.unit._release_lock()
        ss.unit.closed = True  # as after a crash: no checkpoint at close
    assert read_pending(path) == expected  # the summary plus the journal past it
    opened: list[Path] = []
    real = unit_module.Unit.__init__

    def counting(self, p, *a, **kw):
        opened.append(p)
        real(self, p, *a, **kw)

    monkeypatch.setattr(unit_module.Unit, "__init__", counting)
    fresh = LocalStore(home)
    (outbox,) = [o for o in fresh.outboxes(fresh.events()[0].id) if o.session_id == sid]
    assert outbox.count == expected and path not in opened  # counted, not opened
    pending = outbox.pending()
    assert len(pending) == expected and path not in opened  # the journal alone
    assert outbox.mark_acked([o.op_id for o in pending[:3]]) == 3
    assert outbox.mark_acked([o.op_id for o in pending[:3]]) == 0  # once
    outbox.close()
    assert read_pending(path) == expected - 3
    monkeypatch.undo()
    with LocalStore(home).open_session(sid) as ss:
        assert ss.pending_count() == expected - 3 == len(ss.outbox())


def test_an_outbox_of_a_unit_open_in_another_process_is_refused_in_one_line(home: Path) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ss.add_entry("note", "pending")
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom roundtable.store import LocalStore\n"
         "ss = LocalStore(sys.argv[1]).open_session(sys.argv[2])\nprint('ready', flush=True)\n"
         "sys.stdin.readline()\n", str(home), sid],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        fresh = LocalStore(home)
        (outbox,) = [o for o in fresh.outboxes(fresh.events()[0].id) if o.session_id == sid]
        with pytest.raises(SessionLockedError, match=f"pid {child.pid}"):
            outbox.pending()
        outbox.close()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)


def test_a_damaged_journal_is_recovered_by_the_full_open_the_outbox_falls_back_to(
    home: Path,
) -> None:
    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        for n in range(3):
            ss.add_entry("note", f"note {n}")
    journal = unit_dir(home, sid) / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join([*lines[:2], b"not a journal line\n", *lines[2:]]))
    fresh = LocalStore(home)
    (outbox,) = [o for o in fresh.outboxes(fresh.events()[0].id) if o.session_id == sid]
    with pytest.raises(CorruptStoreError, match=r"journal\.jsonl: line 3 .* moved aside"):
        outbox.pending()  # the unit's own open recovered it and says so
    outbox.close()
    (outbox,) = [o for o in fresh.outboxes(fresh.events()[0].id) if o.session_id == sid]
    assert len(outbox.pending()) == outbox.count > 0  # the next round goes on
    outbox.close()


def test_opening_a_session_sync_holds_for_a_moment_waits_for_it(home: Path) -> None:
    """The app opening a session while its own sync pushes that session's outbox (in a worker
    thread) waits for the push instead of refusing with its own pid."""
    import threading

    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ss.add_entry("note", "pending")
    (outbox,) = [o for o in store.outboxes(store.events()[0].id) if o.session_id == sid]
    pending = outbox.pending()  # holds the unit's lock now
    pushed = threading.Timer(0.2, lambda: (outbox.mark_acked([o.op_id for o in pending]),
                                            outbox.close()))  # fmt: skip
    pushed.start()
    try:
        with store.open_session(sid) as ss:  # waits for the "push" to let go
            assert ss.pending_count() == 0
    finally:
        pushed.join()
    assert not store.is_held(store.home / "sessions" / sid)
    with pytest.raises(SessionLockedError, match="another roundtable"):
        other = LocalStore(home)
        held = other.open_session(sid)
        try:
            store.open_session(sid)  # held by a writer that is not this store's sync: refused
        finally:
            held.close()


def test_a_unit_held_twice_stays_held_until_both_let_go(home: Path) -> None:
    """The store's public hold API (issue 21): holds are counted, so a push that ends while a
    pull still holds the same unit does not make ``open_session`` refuse (a set of held paths
    forgot the second holder), and a hold is released once however often it is asked."""
    store, sid = new_session(home)
    path = store.home / "sessions" / sid
    with store.hold(path) as first:
        second = store.hold(path)
        first.release()
        first.release()  # once only
        assert store.is_held(path)
        second.release()
    assert not store.is_held(path)
    assert store.held(path) is None  # no writer in this process
    with store.open_session(sid) as ss:
        assert store.held(path) is ss.unit
    assert store.held(path) is None


def test_the_outbox_read_from_the_journal_keeps_no_pending_op_but_hands_out_the_same(
    home: Path,
) -> None:
    """Issue 25: sync's outbox of a unit it does not hold open (``JournalHandle``) keeps where
    each pending op's journal line starts, not the op (a laptop pushing 10,000 captures held
    70,000 op dicts), and reads the lines again for each batch: it hands out exactly the ops,
    in the order, that a history keeping every op's dict does, with ops held back (TLP:RED),
    acknowledged ones, skipped ones and batch limits."""
    from roundtable.store.history import OutboxHistory
    from roundtable.store.journal import Journal
    from roundtable.store.unit import JournalHandle

    store, sid = new_session(home)
    with store.open_session(sid) as ss:
        ids = [ss.add_entry("need", f"Need {n} \u00e9 \"q\"", delegations=["FR"]).id
               for n in range(12)]  # fmt: skip
        ss.update("entry", ids[3], tlp="red")  # held on the laptop from now on
        ss.update("entry", ids[5], text="edited")
    path = unit_dir(home, sid)
    first = JournalHandle(path)
    acked = [o.op_id for o in first.outbox(40)]
    assert first.mark_acked(acked[:25]) == 25
    first.close()
    with store.open_session(sid) as ss:
        ss.add_entry("action", "Share the list", owner="FR")

    reference = OutboxHistory()  # keeps every pending op's dict
    for _end, line in Journal(path / "journal.jsonl").read(0):
        reference.note(line)
    handle = JournalHandle(path)
    try:
        kept = handle.history._pending
        assert kept and all(isinstance(entry, tuple) for entry in kept.values())
        assert handle.history.pending == reference.pending
        everything = reference.outbox()
        assert handle.outbox() == everything and len(everything) > 40
        assert all(o.record_id != ids[3] or o.field == "deleted" for o in everything)
        skip = {o.op_id for o in everything[::3]}
        for limit in (1, 7, 50, None):
            assert handle.outbox(limit, skip) == reference.outbox(limit, skip)
    finally:
        handle.close()
