"""Store files that are damaged or not what they should be, opened with real files:

* a journal cut at any byte: the lines before the cut are all there, the torn line is ignored;
* a view (checkpoint) that is empty, not JSON, JSON of the wrong shape, NUL bytes, not UTF-8 or
  a directory: refused once with one line naming the file and the reason, moved aside (never
  overwritten), rebuilt from the journal with every acknowledged entry;
* a journal with a damaged middle line: refused once, moved aside, the lines before it kept;
* what a read-only open (listing, export) does with the same damage: it reports and changes
  nothing.
* with a checkpoint present: a journal cut below what it covers, or lost, keeps its records; a
  line of the wrong shape is named by its number (also to a reader asking for the outbox), and
  pending and acknowledged ops before it stay as they were;
* a bad device file, and the CLI's one-line report of a damaged session (exit 1).
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


# -- more damage, with a checkpoint present: pending and acknowledged ops survive; the device
# file; the CLI's one-line report --------------------------------------------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@dataclass
class Home:
    path: Path
    session: str
    texts: list[str]  # entries, in capture order
    ends: list[int]  # journal size after each entry's line
    pending: set[str]  # op ids not acknowledged when the session was closed
    acked: set[str]
    last_pending: set[str]  # the ops of the last capture (after the last ack)

    @property
    def unit(self) -> Path:
        return self.path / "sessions" / self.session

    @property
    def journal(self) -> Path:
        return self.unit / "journal.jsonl"

    @property
    def view(self) -> Path:
        return self.unit / "view.json"


def build(path: Path) -> Home:
    """A session: five captures, the first three acknowledged, then two more."""
    store = LocalStore(path)
    event = store.create_event("Conference")
    session = store.create_session(event.id, "europe", "Round table", agenda=[])
    texts = ["Ports of Rotterdam", "Training needs", "Watch list", "Budget", "Next meeting"]
    ends = []
    with store.open_session(session.id) as ss:
        for n, text in enumerate(texts):
            ss.add_entry("note", text)
            ends.append(ss.unit.journal.size)
            if n == 2:
                ss.mark_acked([o.op_id for o in ss.outbox()])
            if n == 3:
                before_last = {o.op_id for o in ss.outbox()}
        pending = {o.op_id for o in ss.outbox()}
        acked = set(ss.unit.history.acked)
    store.close()
    return Home(path, session.id, texts, ends, pending, acked, pending - before_last)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return build(tmp_path_factory.mktemp("original") / "home")


@pytest.fixture
def home(original: Home, tmp_path: Path) -> Home:
    path = tmp_path / "home"
    shutil.copytree(original.path, path)
    return Home(**{**original.__dict__, "path": path})


def digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != "lock"
    }


def opened(home: Home, read_only: bool = False) -> tuple[list[str], set[str]]:
    """The entries' texts and the pending op ids, as a fresh LocalStore sees them."""
    with LocalStore(home.path).open_session(home.session, read_only=read_only) as ss:
        return [e.text for e in ss.records("entry")], {o.op_id for o in ss.outbox()}


def with_crc(body: bytes) -> bytes:
    """A journal line whose checksum is right, whatever its content."""
    return body + b"\t%08x\n" % zlib.crc32(body)


# -- a journal cut at any byte ------------------------------------------------------------------


def test_journal_cut_below_the_checkpoint_keeps_the_checkpoints_records(home: Home) -> None:
    data = home.journal.read_bytes()
    view = home.view.read_bytes()
    rng = random.Random(7)
    for offset in sorted(rng.sample(range(len(data)), min(len(data), count(12)))):
        home.journal.write_bytes(data[:offset])
        home.view.write_bytes(view)
        for p in home.unit.glob("*.corrupt-*"):
            p.unlink()
        before = digest(home.path)
        with pytest.raises(CorruptStoreError, match="shorter than the checkpoint covers"):
            opened(home, read_only=True)
        assert digest(home.path) == before  # a reader changes nothing
        with pytest.raises(CorruptStoreError, match=r"journal\.jsonl.*moved aside") as info:
            opened(home)
        assert "\n" not in str(info.value) and "records of view.json" in str(info.value)
        (aside,) = home.unit.glob("journal.jsonl.corrupt-*")
        assert aside.read_bytes() == data[:offset]
        texts, pending = opened(home)
        assert texts == home.texts  # the checkpoint held them all
        # ops of the lines kept are pending again unless their ack line was kept too (pushing
        # one twice is harmless: the server answers "duplicate")
        assert pending <= home.pending | home.acked


# -- a damaged line in the middle of the journal ------------------------------------------------

BAD_LINES: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"hello world\n", "not a journal record"),
    "a list": (with_crc(b"[1,2]"), "not an object"),
    "a number": (with_crc(b"5"), "not an object"),
    "no kind": (with_crc(b'{"v":2}'), "wrong shape.*line kind None"),
    "op without fields": (with_crc(b'{"v":2,"t":"change","ops":[{"op_id":"x"}]}'), "op field"),
    "ops not a list": (with_crc(b'{"v":2,"t":"change","ops":5}'), "ops is not a list"),
    "op id a number": (
        with_crc(
            b'{"v":2,"t":"change","ops":[{"op_id":5,"event_id":"e","record_id":"r","kind":'
            b'"entry","field":"text","value":"x","hlc":"h","device":"d"}]}'
        ),
        "op id that is not a string",
    ),
    "ack of numbers": (with_crc(b'{"v":2,"t":"ack","op_ids":[1]}'), "op id that is not"),
    "NUL bytes": (b"\0" * 40 + b"\n", "not a journal record"),
    "invalid UTF-8": (with_crc(b'{"v":2,"t":"\xff"}'), "not a journal record.*utf-8"),
    "checksum wrong": (b'{"v":2,"t":"ack","op_ids":[]}\t00000000\n', "checksum does not match"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_damaged_journal_line_is_named_and_what_came_before_is_kept(home: Home, case: str) -> None:
    """A bad line before the last capture (the journal has one line per capture or ack)."""
    bad, reason = BAD_LINES[case]
    data = home.journal.read_bytes()
    cut = home.ends[-2]  # the bad line goes before the last capture's line
    damaged = data[:cut] + bad + data[cut:]
    home.journal.write_bytes(damaged)
    line_no = data[:cut].count(b"\n") + 1
    before = digest(home.path)
    with LocalStore(home.path).open_session(home.session, read_only=True) as reader:
        assert [e.text for e in reader.records("entry")] == home.texts  # from the checkpoint
        with pytest.raises(CorruptStoreError, match=f"line {line_no}.*{reason}") as e:
            reader.outbox()  # the history is read: the damage is reported, not a traceback
        assert "\n" not in str(e.value) and "open the session for writing" in str(e.value)
    assert digest(home.path) == before  # a reader changes nothing
    with pytest.raises(CorruptStoreError, match=f"journal\\.jsonl: line {line_no}.*{reason}") as e:
        opened(home)
    assert "\n" not in str(e.value) and "moved aside to journal.jsonl.corrupt-" in str(e.value)
    (aside,) = home.unit.glob("journal.jsonl.corrupt-*")
    assert aside.read_bytes() == damaged  # kept for inspection, as it was
    texts, pending = opened(home)
    assert texts == home.texts  # the checkpoint's records stay
    # every op stored before the damage is kept: pending still pending, acked still acked
    assert pending == home.pending - home.last_pending and not pending & home.acked


def test_nul_bytes_after_the_last_line_are_a_torn_tail(home: Home) -> None:
    """What a crash can leave on some file systems: the file grew, the bytes never came."""
    with home.journal.open("ab") as f:
        f.write(b"\0" * 512)
    assert opened(home) == (home.texts, home.pending)
    assert not list(home.unit.glob("*.corrupt-*"))
    with LocalStore(home.path).open_session(home.session) as ss:
        ss.add_entry("note", "After the crash")
    assert b"\0" not in home.journal.read_bytes()
    assert opened(home)[0] == [*home.texts, "After the crash"]


# -- a damaged view (checkpoint) ----------------------------------------------------------------


def _view_dir(view: Path) -> None:
    view.unlink()
    view.mkdir()


BAD_VIEWS: dict[str, tuple[Callable[[Path], object], str]] = {
    "meta a list": (lambda v: v.write_bytes(b'{"meta":[1]}'), "not a tinydb document"),
    "record without kind": (
        lambda v: v.write_bytes(b'{"records":{"1":{"id":"x"}}}'),
        "wrong shape.*record without 'kind'",
    ),
    "offset not a number": (
        lambda v: v.write_bytes(b'{"meta":{"1":{"journal_offset":"x"}}}'),
        "wrong shape",
    ),
    "a directory": (_view_dir, "cannot read: Is a directory"),
}


@pytest.mark.parametrize("case", list(BAD_VIEWS))
def test_damaged_view_keeps_the_outbox_and_acknowledgements(home: Home, case: str) -> None:
    damage, reason = BAD_VIEWS[case]
    damage(home.view)
    before = digest(home.path)
    with pytest.raises(CorruptStoreError, match=reason) as info:
        opened(home, read_only=True)
    assert "\n" not in str(info.value) and "open the session for writing" in str(info.value)
    assert digest(home.path) == before
    with pytest.raises(CorruptStoreError, match=f"view\\.json: .*{reason}.*moved aside") as info:
        opened(home)
    assert "\n" not in str(info.value)
    assert len(list(home.unit.glob("view.json.corrupt-*"))) == 1
    assert opened(home) == (home.texts, home.pending)  # nothing lost: the journal has it all
    assert opened(home, read_only=True) == (home.texts, home.pending)


# -- the device file, and the CLI ---------------------------------------------------------------


def _device_dir(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not json"),
        lambda p: p.write_bytes(b"[1, 2]"),
        lambda p: p.write_bytes(b'{"device": 5}'),
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(b'{"device": "\xff"}'),
        _device_dir,
    ],
    ids=["not JSON", "a list", "wrong type", "empty", "invalid UTF-8", "a directory"],
)
def test_bad_device_file_is_refused_with_one_line(home: Home, damage) -> None:
    damage(home.path / "device.json")
    before = digest(home.path)
    with pytest.raises(StoreError, match=r"device\.json: not a device file") as info:
        LocalStore(home.path)
    assert "\n" not in str(info.value)
    out = cli(home, "sessions")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "device.json: not a device file" in out.stderr
    assert digest(home.path) == before


def cli(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ROUNDTABLE_HOME=str(home.path))
    return subprocess.run(
        [sys.executable, "-m", "roundtable", *args], env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("damage", ["view a directory", "journal not JSON", "journal a directory"])
def test_cli_reports_a_damaged_session_in_one_line(home: Home, damage: str) -> None:
    if damage == "view a directory":
        _view_dir(home.view)
        home.journal.write_bytes(home.journal.read_bytes()[:-3])  # and no checkpoint to trust
        expect = "view.json: cannot read: Is a directory"
    elif damage == "journal not JSON":
        home.view.unlink()
        data = home.journal.read_bytes()
        home.journal.write_bytes(data[: home.ends[0]] + b"{oops\n" + data[home.ends[0] :])
        expect = "is not a journal record"
    else:
        home.view.unlink()
        home.journal.unlink()
        home.journal.mkdir()
        expect = "journal.jsonl: cannot read: Is a directory"
    before = digest(home.path)
    out = cli(home, "export", home.session)  # export only reads
    assert out.returncode == 1 and out.stdout == "", out
    assert out.stderr.count("\n") == 1 and expect in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and digest(home.path) == before
    listed = cli(home, "sessions")  # the list still shows the other sessions' summaries
    assert "Traceback" not in listed.stderr


def test_missing_journal_keeps_the_checkpoints_records(home: Home) -> None:
    home.journal.unlink()
    with pytest.raises(CorruptStoreError, match="shorter than the checkpoint covers"):
        opened(home, read_only=True)
    assert not home.journal.exists()
    with pytest.raises(CorruptStoreError, match=r"journal\.jsonl: missing; kept the 0 lines") as e:
        opened(home)
    assert "\n" not in str(e.value)
    assert opened(home) == (home.texts, set())  # the records stay; their ops were in the journal
