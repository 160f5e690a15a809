"""A writer opened with ``lazy_history`` (the app): the view and the journal past it at open, the
history (outbox, undo stack, known ops) later, in ``load_history_step`` slices or at the first
write.  Whatever the moment, it must end exactly where an eager open would."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from roundtable.model import HlcClock, Op, new_id
from roundtable.store import CorruptStoreError, LocalStore, SessionStore
from roundtable.store.journal import decode_line, encode_line

AGENDA = [
    {"title": "Opening", "minutes": 5, "prompts": ["Welcome"], "item_kind": "opening"},
    {"title": "Drugs", "minutes": 20, "prompts": [], "item_kind": "discussion"},
]


def _remote_entry(event_id: str, session_id: str, text: str) -> list[Op]:
    other = HlcClock("lap-other")
    entry_id = new_id()
    return [
        Op(new_id(), event_id, session_id, entry_id, "entry", field, value,
           other.now().encode(), "lap-other")
        for field, value in (("session_id", session_id), ("entry_kind", "need"), ("text", text))
    ]  # fmt: skip


def _crash(ss: SessionStore) -> None:
    """Leave as a kill -9 would: no checkpoint, the lock dropped by the kernel."""
    ss.unit.journal.close()
    ss.unit._release_lock()


def build(home: Path) -> dict[str, Any]:
    """A session with a history before the view's offset (entries, edits, an undo, acks, remote
    ops) and a tail past it (entries and an ack written after the last checkpoint)."""
    store = LocalStore(home, checkpoint_every=10_000)
    event = store.create_event("Conf")
    sid = store.create_session(event.id, "africa", "Africa RT", AGENDA).id
    with store.open_session(sid) as ss:
        entries = [ss.add_entry("note", f"note {n}").id for n in range(30)]
        for n in range(0, 30, 3):
            ss.update("entry", entries[n], text=f"edited {n}")
        assert ss.undo() == "edit entry text"
        ss.mark_acked([o.op_id for o in ss.outbox(limit=10)])
        remote = _remote_entry(ss.event_id, sid, "from far away")
        assert ss.apply_remote(remote) == 3
    # the view now covers all of the above; write a tail past it and "crash"
    ss = LocalStore(home, checkpoint_every=10_000).open_session(sid)
    for n in range(5):
        ss.add_entry("issue", f"tail {n}")
    ss.mark_acked([o.op_id for o in ss.outbox(limit=4)])
    _crash(ss)
    unit_dir = home / "sessions" / sid
    view = json.loads((unit_dir / "view.json").read_text())
    offset = view["meta"]["1"]["journal_offset"]
    journal = unit_dir / "journal.jsonl"
    assert 0 < offset < journal.stat().st_size  # a tail past the view
    return {"sid": sid, "remote": remote, "dir": unit_dir, "journal": journal, "offset": offset}


def copy_home(home: Path, to: Path) -> Path:
    shutil.copytree(home, to)
    return to


def history(ss: SessionStore) -> dict[str, Any]:
    unit = ss.unit
    return {
        "outbox": [o.op_id for o in ss.outbox()],
        "pending": ss.pending_count(),
        "known": set(unit.history.known_ops),
        "acked": set(unit.history.acked),
        "changes": [c["change_id"] for c in unit.history.changes],
    }


def records(ss: SessionStore) -> dict[str, dict[str, Any]]:
    return {e.id: e.to_fields() for e in ss.records("entry", include_deleted=True)}


def journal_ops(journal: Path) -> list[str]:
    out = []
    for raw in journal.read_bytes().splitlines():
        line = decode_line(raw)
        if line["t"] == "change":
            out += [o["op_id"] for o in line["ops"]]
    return out


def step_to_end(ss: SessionStore, max_lines: int = 500) -> int:
    calls = 0
    while True:
        calls += 1
        if ss.load_history_step(max_lines):
            return calls
        assert calls < 10_000


# ---------------------------------------------------------------------------------------------


def test_lazy_open_then_steps_match_an_eager_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info = build(home)
    copy = copy_home(home, tmp_path / "copy")
    eager = LocalStore(copy).open_session(info["sid"], lazy_history=False)
    lazy = LocalStore(home).open_session(info["sid"], lazy_history=True)
    try:
        assert eager.unit._history_loaded and not lazy.unit._history_loaded
        assert (
            lazy.unit.history.local_ops == [] and lazy.unit.history.changes == []
        )  # nothing read yet
        assert records(lazy) == records(eager)  # the view and its tail are all there at open
        assert lazy.pending_count() == eager.pending_count() > 0  # from meta + tail
        assert step_to_end(lazy, max_lines=7) > 1
        assert lazy.unit._history_loaded
        assert history(lazy) == history(eager)
        assert lazy.unit.journal.size == info["journal"].stat().st_size
        assert lazy.load_history_step() is True  # at once, and nothing counted twice
        assert history(lazy) == history(eager)
        assert lazy.undo() == eager.undo() == "add issue"
        assert records(lazy) == records(eager)
        assert lazy.pending_count() == eager.pending_count()
    finally:
        lazy.close()
        eager.close()
    with LocalStore(home).open_session(info["sid"]) as again:
        assert records(again) == records(lazy)


def test_without_a_view_a_lazy_open_is_eager(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info = build(home)
    (info["dir"] / "view.json").unlink()
    with LocalStore(home).open_session(info["sid"], lazy_history=True) as ss:
        assert ss.unit._history_loaded and len(ss.unit.history.changes) > 30


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_capture_and_undo_before_the_history_is_loaded(tmp_path: Path, steps: int) -> None:
    home = tmp_path / "home"
    info = build(home)
    copy = copy_home(home, tmp_path / "copy")
    with LocalStore(copy).open_session(info["sid"]) as eager:
        before = history(eager)
        before_records = records(eager)
    ss = LocalStore(home).open_session(info["sid"], lazy_history=True)
    for _ in range(steps):
        assert ss.load_history_step(max_lines=5) is False
    fresh = ss.add_entry("need", "captured while loading")
    assert ss.unit._history_loaded
    added = [o.op_id for o in ss.outbox()][len(before["outbox"]) :]
    assert ss.undo() == "add need"  # the capture, not something older
    assert ss.get("entry", fresh.id).deleted
    outbox = [o.op_id for o in ss.outbox()]
    assert len(outbox) == len(set(outbox))  # every op once
    assert outbox[: len(before["outbox"])] == before["outbox"]
    assert outbox[len(before["outbox"]) : len(before["outbox"]) + len(added)] == added
    undo_ops = len(outbox) - len(before["outbox"]) - len(added)
    assert undo_ops == 1  # deleted = True
    assert ss.pending_count() == before["pending"] + len(added) + 1 == len(outbox)
    assert [c["change_id"] for c in ss.unit.history.changes][: len(before["changes"])] == before[
        "changes"
    ]
    assert len(ss.unit.history.changes) == len(before["changes"]) + 2
    ss.close()
    ops = journal_ops(info["journal"])
    assert len(ops) == len(set(ops))
    with LocalStore(home).open_session(info["sid"]) as again:
        got = records(again)
        assert got[fresh.id]["deleted"] is True
        del got[fresh.id]
        assert got == before_records
        assert [o.op_id for o in again.outbox()] == outbox
        assert again.pending_count() == len(outbox)


@pytest.mark.parametrize("steps", [0, 2])
def test_remote_ops_and_acks_before_the_history_is_loaded(tmp_path: Path, steps: int) -> None:
    home = tmp_path / "home"
    info = build(home)
    copy = copy_home(home, tmp_path / "copy")
    with LocalStore(copy).open_session(info["sid"]) as eager:
        before = history(eager)
    ss = LocalStore(home).open_session(info["sid"], lazy_history=True)
    for _ in range(steps):
        assert ss.load_history_step(max_lines=4) is False
    # ops applied before the view's offset are known: not applied, not journaled again
    assert ss.apply_remote(info["remote"]) == 0
    newer = _remote_entry(ss.event_id, info["sid"], "later")
    assert ss.apply_remote(newer + info["remote"] + newer) == 3
    assert ss.apply_remote(newer) == 0
    # acks already in the history count for nothing; new ones once
    acked = sorted(before["acked"])[:3]
    assert acked and ss.mark_acked(acked) == 0
    to_ack = before["outbox"][:6]
    assert ss.mark_acked(to_ack + to_ack) == 6
    assert ss.mark_acked(to_ack) == 0
    assert ss.pending_count() == before["pending"] - 6
    assert [o.op_id for o in ss.outbox()] == before["outbox"][6:]
    ss.close()
    lines = [decode_line(x) for x in info["journal"].read_bytes().splitlines()]
    remote_ids = [o["op_id"] for line in lines if line["t"] == "remote" for o in line["ops"]]
    assert len(remote_ids) == len(set(remote_ids)) == 6
    ack_ids = [i for line in lines if line["t"] == "ack" for i in line["op_ids"]]
    assert len(ack_ids) == len(set(ack_ids))
    with LocalStore(home).open_session(info["sid"]) as again:
        assert again.pending_count() == before["pending"] - 6
        assert [o.op_id for o in again.outbox()] == before["outbox"][6:]
        assert again.get("entry", newer[0].record_id).text == "later"


@pytest.mark.parametrize("max_lines", [1, 7, 49, 50, 10_000])
def test_each_step_decodes_at_most_max_lines(tmp_path: Path, max_lines: int) -> None:
    home = tmp_path / "home"
    info = build(home)
    n_lines = len(info["journal"].read_bytes().splitlines())
    assert n_lines == 50  # build() is deterministic: the boundary cases below are exact
    with LocalStore(home).open_session(info["sid"], lazy_history=True) as ss:
        assert step_to_end(ss, max_lines) == math.ceil(n_lines / max_lines)
        assert ss.load_history_step(max_lines) is True
        assert len(ss.unit.history.changes) == sum(
            1 for x in info["journal"].read_bytes().splitlines() if decode_line(x)["t"] == "change"
        )


def test_a_torn_tail_is_not_history_and_is_cut_at_the_first_append(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info = build(home)
    good = info["journal"].read_bytes()
    with info["journal"].open("ab") as fh:
        fh.write(b'{"v":2,"t":"change","ops":[{"op_id":"half')
    with LocalStore(home).open_session(info["sid"], lazy_history=True) as ss:
        step_to_end(ss, max_lines=10)
        assert ss.unit.journal.size == len(good)
        ss.add_entry("note", "after the tear")
    data = info["journal"].read_bytes()
    assert data.startswith(good)
    assert all(decode_line(x) for x in data.splitlines())
    assert not list(info["dir"].glob("*.corrupt-*"))


def _damage(journal: Path, line_index: int, kind: str) -> bytes:
    """Replace one line by a bad one of the same length (the view's byte offset stays right)."""
    lines = journal.read_bytes().splitlines(keepends=True)
    size = len(lines[line_index])
    if kind == "garbage":
        bad = b"x" * (size - 1) + b"\n"
    else:  # a well-formed line whose op is not of the shape we write
        base = {"v": 2, "t": "change", "ops": [{"op_id": "x"}], "pad": ""}
        pad = size - len(encode_line(base))
        assert pad > 0
        bad = encode_line({**base, "pad": "p" * pad})
    assert len(bad) == size
    lines[line_index] = bad
    damaged = b"".join(lines)
    journal.write_bytes(damaged)
    return damaged


@pytest.mark.parametrize("kind", ["garbage", "wrong shape"])
@pytest.mark.parametrize("found_by", ["loader", "write"])
def test_damage_before_the_view_is_recovered_in_place(
    tmp_path: Path, kind: str, found_by: str
) -> None:
    home = tmp_path / "home"
    info = build(home)
    with LocalStore(home).open_session(info["sid"], read_only=True) as reader:
        view_records = records(reader)
    damaged = _damage(info["journal"], 5, kind)  # line 6: the 5th note
    with LocalStore(home).open_session(info["sid"], read_only=True) as reader:
        with pytest.raises(CorruptStoreError, match="open the session for writing"):
            reader.outbox()
    assert not list(info["dir"].glob("*.corrupt-*"))  # a reader moves nothing
    store = LocalStore(home)
    ss = store.open_session(info["sid"], lazy_history=True)  # opens: the damage is not seen yet
    assert store.notices == []
    if found_by == "loader":
        assert ss.load_history_step(max_lines=3) is False
        assert ss.load_history_step(max_lines=3) is True  # hit line 6: recovered
    fresh = ss.add_entry("action", "after the recovery", owner="GH")
    assert len(store.notices) == 1
    notice = store.notices[0]
    assert "\n" not in notice
    assert "journal.jsonl" in notice and "line 6" in notice and "moved aside to" in notice
    assert "kept the 5 lines before it and the records of view.json" in notice
    (aside,) = info["dir"].glob("journal.jsonl.corrupt-*")
    assert aside.name in notice and aside.read_bytes() == damaged
    got = records(ss)
    assert got.pop(fresh.id)["text"] == "after the recovery"
    assert got == view_records  # the records of the view (and its tail) kept
    outbox = [o.op_id for o in ss.outbox()]
    last = decode_line(info["journal"].read_bytes().splitlines()[-1])
    assert last["label"] == "add action"
    capture = [o["op_id"] for o in last["ops"]]
    assert outbox[-len(capture) :] == capture  # the capture is in the outbox, once
    assert journal_ops(info["journal"]) == outbox  # 5 kept lines: the create + 4 unacked notes
    ss.close()
    lines = info["journal"].read_bytes().splitlines()
    assert len(lines) == 5 + 1 and all(decode_line(x) for x in lines)
    with LocalStore(home).open_session(info["sid"]) as again:  # no CorruptStoreError
        got = records(again)
        assert got.pop(fresh.id)["owner"] == "GH"
        assert got == view_records
        assert [o.op_id for o in again.outbox()] == outbox
        assert again.pending_count() == len(outbox)


def test_a_checkpoint_before_the_history_is_loaded_counts_pending_right(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info = build(home)
    copy = copy_home(home, tmp_path / "copy")
    with LocalStore(copy).open_session(info["sid"]) as eager:
        expected = eager.pending_count()
        expected_outbox = [o.op_id for o in eager.outbox()]
    ss = LocalStore(home).open_session(info["sid"], lazy_history=True)
    assert ss.load_history_step(max_lines=2) is False
    ss.unit.checkpoint(force=True)  # what close() writes when there is something to write
    ss.close()
    meta = json.loads((info["dir"] / "view.json").read_text())["meta"]["1"]
    assert meta["pending"] == expected
    assert meta["journal_offset"] == info["journal"].stat().st_size > info["offset"]
    with LocalStore(home).open_session(info["sid"], read_only=True) as reader:
        assert reader.pending_count() == expected  # the meta alone: no tail past it now
    with LocalStore(home).open_session(info["sid"]) as again:
        assert again.pending_count() == expected
        assert [o.op_id for o in again.outbox()] == expected_outbox


def test_close_before_the_history_is_loaded_keeps_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info = build(home)
    before = info["journal"].read_bytes()
    view_before = (info["dir"] / "view.json").read_bytes()
    store = LocalStore(home)
    ss = store.open_session(info["sid"], lazy_history=True)
    expected = ss.pending_count()
    assert ss.load_history_step(max_lines=3) is False
    ss.close()
    assert ss.load_history_step() is True  # a closed unit has nothing left to load
    assert info["journal"].read_bytes() == before
    assert (info["dir"] / "view.json").read_bytes() == view_before  # nothing changed
    with store.open_session(info["sid"], lazy_history=True) as again:  # the lock was let go
        assert again.pending_count() == expected
        step_to_end(again)
        assert again.pending_count() == expected
