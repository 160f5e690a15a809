"""LocalStore: the laptop's records, as a write-ahead journal plus a tinydb checkpoint per unit.

A *unit* is one directory: the event record's (``events/<id>/``) or one session's
(``sessions/<id>/``), so a write costs what its own session holds, whatever the others hold.

* Every change is a list of ops appended to ``journal.jsonl`` as ONE line and fsynced before the
  call returns: that append is the acknowledgement of a capture, and the journal's local ops are
  the sync outbox.  Acknowledgements from the server are appended as ``ack`` lines.
* ``view.json`` (tinydb, written by :class:`~roundtable.storage.CheckpointStorage`) holds every
  record's merged fields and the journal offset it covers.  It is rewritten atomically at
  checkpoints; on open the journal past that offset is replayed (idempotent by op id).
* One writer per unit: ``lock`` is flock'ed; a second instance is refused with its pid.
* Files that do not parse are never overwritten: they are moved aside as
  ``<name>.corrupt-<time>``, what can be recovered is rebuilt, and the open is refused once with
  a message saying so.  A writer opened with ``lazy_history`` (the app) reads the history before
  the view's offset after the open: damage found there is recovered in place, with a notice.

This is the only module that imports tinydb (its checkpoint storage lives in storage.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roundtable import protocol
from roundtable.journal import JOURNAL_VERSION, Journal, decode_line, encode_line
from roundtable.model import (
    ACTION_STATUSES,
    ENTRY_KINDS,
    PRIORITIES,
    RECORD_TYPES,
    REGIONS,
    STORE_SCHEMA,
    AgendaItem,
    Attendance,
    Entry,
    Event,
    Hlc,
    HlcClock,
    Op,
    Record,
    Session,
    SessionSnapshot,
    Speech,
    new_id,
    quote,
    stable_id,
)
from roundtable.storage import CorruptFileError, fsync_dir

CHECKPOINT_EVERY = 200


class StoreError(Exception):
    """A store operation that cannot be done; the message is one line naming the file."""


class CorruptStoreError(StoreError):
    """A file did not parse: it was moved aside and what could be recovered was kept."""


class SessionLockedError(StoreError):
    """Another writer (another process, or this one) holds the session."""


class UnknownSessionError(StoreError):
    """No such session (or an ambiguous id prefix) on this laptop."""


@dataclass(frozen=True)
class SessionSummary:
    """One line of the sessions list, read without taking the session's lock."""

    id: str
    event_id: str
    event_name: str
    region: str
    title: str
    status: str
    date: str
    entries: int
    pending: int


SUMMARY_NAME = "summary.json"
_SUMMARY_FIELDS = ("event_id", "region", "title", "status", "date")


def read_summary(path: Path, session_id: str) -> SessionSummary | None:
    """The sessions-list line a session's last checkpoint left (``Unit._write_summary``), if
    it still describes the session: same store schema, the journal exactly as long as the view
    covers, the view the very file it was taken from.  None otherwise; the caller reads the
    view.  The event's name is filled in by the caller."""
    try:
        data = json.loads((path / SUMMARY_NAME).read_bytes())
        journal = path / "journal.jsonl"
        size = journal.stat().st_size if journal.exists() else 0
        view = (path / "view.json").stat()
        if (
            data["schema"] != STORE_SCHEMA
            or data["journal_offset"] != size
            or data["view"] != [view.st_size, view.st_mtime_ns]
        ):
            return None
        fields = data["session"]
        values = [fields[k] for k in _SUMMARY_FIELDS]
        if not all(isinstance(v, str) for v in values):
            return None
        entries, pending = data["entries"], data["pending"]
        if not (isinstance(entries, int) and isinstance(pending, int)):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    event_id, region, title, status, date = values
    return SessionSummary(session_id, event_id, "", region, title, status, date, entries, pending)


def _utc_now_iso(wall: float) -> str:
    return dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(timespec="seconds")


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


_OP_KEYS = frozenset(("op_id", "event_id", "record_id", "kind", "field", "value", "hlc", "device"))


def _check_line(line: Mapping[str, Any]) -> None:
    """The shape of a journal line, cheaply (KeyError/TypeError name what is wrong): lines
    covered by the checkpoint are not replayed, but their ops are the outbox."""
    kind = line.get("t")
    if kind not in ("change", "remote", "ack"):
        raise KeyError(f"line kind {kind!r}")
    items = line.get("op_ids" if kind == "ack" else "ops", ())
    if not isinstance(items, list):
        raise TypeError(f"{'op_ids' if kind == 'ack' else 'ops'} is not a list")
    for item in items:
        if kind == "ack":
            if not isinstance(item, str):
                raise TypeError("op id that is not a string")
        elif not isinstance(item, dict) or not _OP_KEYS <= item.keys():
            raise KeyError("op field " + repr(sorted(_OP_KEYS - set(item))[:1]))
        elif not isinstance(item["op_id"], str):
            raise TypeError("op id that is not a string")


def _move_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.corrupt-{_stamp()}")
    os.replace(path, target)
    return target


# ---------------------------------------------------------------------------------------------
# One unit: journal + view
# ---------------------------------------------------------------------------------------------


class Unit:
    """The records of one event or one session, with their journal, view and lock."""

    def __init__(
        self,
        path: Path,
        clock: HlcClock,
        *,
        read_only: bool = False,
        checkpoint_every: int = CHECKPOINT_EVERY,
        create: bool = False,
        notices: list[str] | None = None,
        lazy_history: bool = False,
    ) -> None:
        self.path = path
        self.clock = clock
        self.read_only = read_only
        self.checkpoint_every = checkpoint_every
        self.journal = Journal(path / "journal.jsonl")
        self.view_path = path / "view.json"
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self._objects: dict[tuple[str, str], Record] = {}
        # each record's JSON as last written to the view: a checkpoint re-encodes only the
        # records changed since (encoding 5,000 records costs ~100 ms, joining them ~2 ms)
        self._encoded: dict[tuple[str, str], str] = {}
        self._lock_fd: int | None = None
        self.notices: list[str] = notices if notices is not None else []
        """One-line messages for the user (the store was brought forward, a checkpoint could not
        be written); the LocalStore's list, shared by its units."""
        self._changes_since_checkpoint = 0
        self._history_loaded = False
        self._known_ops: set[str] = set()
        self._local_ops: list[dict[str, Any]] = []  # as journaled; Op objects only on demand
        self._local_ids: set[str] = set()
        self._acked: set[str] = set()
        self._pending = 0  # local ops not acknowledged, once the history is loaded
        self._changes: list[dict[str, Any]] = []
        self._meta_pending = 0
        self._pending_delta = 0
        self.lazy_history = lazy_history
        """A writer that opens like a reader (only the journal past the view is replayed) and
        reads its history later: in ``load_history_step`` slices, or all at its first write."""
        self._history_steps: Iterator[tuple[int, int, dict[str, Any]]] | None = None
        self._history_bound = 0  # the journal's size when the history load began
        self.closed = False
        if not path.is_dir():
            if not create:
                raise UnknownSessionError(f"{path}: no such store")
            base_existed = path.parent.is_dir()
            path.mkdir(parents=True, exist_ok=True)
            # make the new directory's entry durable, or power loss could drop the whole unit
            fsync_dir(path.parent)
            if not base_existed:
                fsync_dir(path.parent.parent)
        if not read_only:
            self._take_lock()
        try:
            self._load()
        except BaseException:
            self._release_lock()
            raise

    @property
    def what(self) -> str:
        """How messages name this unit: "session <id>" or "event <id>"."""
        noun = "event" if self.path.parent.name == "events" else "session"
        return f"{noun} {self.path.name}"

    # -- lock ------------------------------------------------------------------------------

    def _take_lock(self) -> None:
        lock_path = self.path / "lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"{lock_path}: cannot open lock file: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            try:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            except OSError:
                holder = "?"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SessionLockedError(
                    f"{self.what} is open in another roundtable (pid {holder}); close it first"
                ) from None
            raise StoreError(f"{lock_path}: cannot lock: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            finally:
                os.close(self._lock_fd)
                self._lock_fd = None

    # -- open ------------------------------------------------------------------------------

    def _load(self) -> None:
        from tinydb import TinyDB

        from roundtable import migrate
        from roundtable.storage import CheckpointStorage

        problems: list[str] = []
        offset = 0
        view_outdated = False
        try:
            if self.read_only:
                migrate.check_not_newer(self.journal.path)
            else:
                notice = migrate.upgrade_unit(self.path, self.journal.path, self.view_path)
                if notice:
                    self.notices.append(notice)
        except migrate.NewerStoreError as exc:
            raise StoreError(str(exc)) from None
        except OSError as exc:
            if exc.filename:  # e.g. the journal is a directory
                raise StoreError(f"{exc.filename}: cannot read: {exc.strerror}") from None
            raise StoreError(
                f"{self.path}: cannot bring the store forward: {exc.strerror}"
            ) from None
        if not self.read_only:
            for name in (self.view_path.name, SUMMARY_NAME):
                for stale in self.path.glob(f".{name}.tmp-*"):
                    stale.unlink(missing_ok=True)  # a checkpoint interrupted by a crash
        self._meta: dict[str, Any] = {}
        if self.view_path.exists():
            try:
                db = TinyDB(self.view_path, storage=CheckpointStorage)
                # the tables as tinydb's storage read them; its Table API would copy each of
                # 5,000 records twice more (~20 ms of a session's open)
                tables = db.storage.read() or {}
                meta_rows = list(tables.get("meta", {}).values())
                meta = dict(meta_rows[0]) if meta_rows else {}
                schema = meta.get("schema", STORE_SCHEMA)
                if not isinstance(schema, int) or schema > STORE_SCHEMA:
                    raise StoreError(
                        f"{self.view_path}: written by a newer roundtable (store schema "
                        f"{schema}, this version reads up to {STORE_SCHEMA}); upgrade roundtable"
                    )
                for doc in tables.get("records", {}).values():
                    self._check_doc(doc)
                    self.docs[(doc["kind"], doc["id"])] = doc
                offset = int(meta.get("journal_offset", 0))
                self._meta_pending = int(meta.get("pending", 0))
                self._meta = meta
                if schema < STORE_SCHEMA and migrate.first_line_version(self.journal.path) in (
                    None,
                    STORE_SCHEMA,
                ):
                    # the journal was brought forward: its byte offsets changed, so replay it
                    # all once (replay is idempotent) and write a current view
                    offset = 0
                    view_outdated = True
            except CorruptFileError as exc:
                self._refuse_if_read_only(f"{self.view_path.name}: {exc.reason}")
                aside = _move_aside(self.view_path)
                problems.append(f"{self.view_path.name}: {exc.reason}; moved aside to {aside.name}")
                self.docs.clear()
                offset = 0
                self._meta_pending = 0
            except (KeyError, TypeError, ValueError) as exc:
                self._refuse_if_read_only(f"{self.view_path.name}: wrong shape ({exc})")
                aside = _move_aside(self.view_path)
                problems.append(
                    f"{self.view_path.name}: wrong shape ({exc}); moved aside to {aside.name}"
                )
                self.docs.clear()
                offset = 0
                self._meta_pending = 0
        try:
            if offset > (self.journal.path.stat().st_size if self.journal.path.exists() else 0):
                raise CorruptFileError(self.journal.path, "shorter than the checkpoint covers")
            try:
                if offset == 0 or (not self.read_only and not self.lazy_history):
                    # a writer needs the history (outbox, undo stack, known ops) for its first
                    # write: read it now, in the same pass, rather than stall the first capture
                    self._read_history(replay_from=offset)
                else:
                    # a reader, or a lazy writer with a usable view: only the lines past it now;
                    # the history is read later (``load_history_step``, ``_ensure_history``)
                    for _, line in self.journal.read(offset):
                        if not self.read_only:
                            _check_line(line)  # as the eager open does for these lines
                        self._replay_line(line, count_pending=True)
            except (KeyError, TypeError, AttributeError) as exc:
                raise CorruptFileError(
                    self.journal.path, f"a line has the wrong shape (missing or bad {exc})"
                ) from None
        except CorruptFileError as exc:
            self._refuse_if_read_only(str(exc))
            problems.append(self._recover_journal(exc, keep_view=not problems and offset > 0))
        if view_outdated and not problems and not self.read_only:
            self.checkpoint(force=True)
        if problems:
            if not self.read_only:
                self.checkpoint(force=True)
            self._release_lock()
            raise CorruptStoreError(
                f"{self.path}: {'; '.join(problems)}; open it again to continue with what "
                "was recovered"
            )
        self.clock.observe_later(self._latest_hlc)

    def _refuse_if_read_only(self, reason: str) -> None:
        if self.read_only:
            raise CorruptStoreError(
                f"{self.path}: {reason}; open the session for writing to recover it"
            )

    @staticmethod
    def _check_doc(doc: Mapping[str, Any]) -> None:
        if not isinstance(doc, dict):
            raise TypeError(f"a record that is a {type(doc).__name__}, not an object")
        for key in ("id", "kind", "fields", "heads", "replaced"):
            if key not in doc:
                raise KeyError(f"record without {key!r}")
        if doc["kind"] not in RECORD_TYPES:
            raise ValueError(f"unknown record kind {doc['kind']!r}")

    def _recover_journal(self, exc: CorruptFileError, keep_view: bool = False) -> str:
        """Keep every good line before the bad one; preserve the original file aside.  With
        ``keep_view`` (the checkpoint read well), its records stay and the good lines are
        replayed over them (replay is idempotent), so what the checkpoint covered survives a
        journal that was cut short or lost."""
        good: list[dict[str, Any]] = []
        try:
            data = self.journal.path.read_bytes()
        except FileNotFoundError:
            data = b""
        for raw in data.split(b"\n"):
            try:
                line = decode_line(raw)
                _check_line(line)
                self._line_ops(line)  # its ops must have the shape we write
            except (ValueError, UnicodeDecodeError, KeyError, TypeError):
                break
            good.append(line)
        self.journal.close()
        aside = _move_aside(self.journal.path) if self.journal.path.exists() else None
        from roundtable.storage import atomic_write_bytes

        payload = b"".join(encode_line({**line, "v": JOURNAL_VERSION}) for line in good)
        atomic_write_bytes(self.journal.path, payload)
        if not keep_view:
            self.docs.clear()
        self._objects.clear()
        self._encoded.clear()
        self._history_loaded = False
        self._forget_history()
        self._meta_pending = 0
        self._pending_delta = 0
        self._read_history(replay_from=0)
        reason = exc.reason
        if not reason.startswith("line "):
            reason = f"line {len(good) + 1}: {reason}"
        kept = f"kept the {len(good)} lines before it"
        if keep_view:
            kept += f" and the records of {self.view_path.name}"
        if aside is None:
            return f"{self.journal.path.name}: missing; {kept}"
        return f"{self.journal.path.name}: {reason}; moved aside to {aside.name}; {kept}"

    def _read_history(self, replay_from: int | None = None) -> None:
        """Read the whole journal: known ops, the outbox, the undo stack; replay the lines
        past ``replay_from`` (all when 0, none when None) in the same pass."""
        for line_no, (end, line) in enumerate(self.journal.read(0), 1):
            try:
                self._note_history(line)
                if replay_from is not None and end > replay_from:
                    self._apply_ops(self._line_ops(line))
            except (KeyError, TypeError, AttributeError) as exc:
                raise CorruptFileError(
                    self.journal.path,
                    f"line {line_no} has the wrong shape (missing or bad {exc})",
                ) from None
        self._history_loaded = True
        self._meta_pending = self._pending
        self._pending_delta = 0

    def _ensure_history(self) -> None:
        """The whole history, before a write or a look at the outbox or undo stack.  A load in
        progress (``load_history_step``) is continued from where it is, never restarted."""
        if self._history_loaded:
            return
        if self.read_only and self._history_steps is None:
            # a reader's first look at the outbox or undo stack
            try:
                self._read_history()
            except CorruptFileError as exc:
                self._history_loaded = False
                raise CorruptStoreError(
                    f"{self.path}: {exc}; open the session for writing to recover it"
                ) from None
            except (KeyError, TypeError, AttributeError) as exc:
                self._history_loaded = False
                raise CorruptStoreError(
                    f"{self.path}: {self.journal.path.name}: a line has the wrong shape (missing "
                    f"or bad {exc}); open the session for writing to recover it"
                ) from None
            return
        self._load_history(None)

    def load_history_step(self, max_lines: int = 500) -> bool:
        """Read the next slice of the history (at most ``max_lines`` journal lines decoded);
        True once it is all loaded (at once when it already was, or the unit is closed).

        For a writer opened with ``lazy_history``: the app calls it between frames.  Damage
        found on the way is recovered in place (see ``_load_history``)."""
        if self._history_loaded or self.closed:
            return True
        self._load_history(max(1, max_lines))
        return self._history_loaded

    def _history_lines(self, bound: int) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """``(line_no, end_offset, line)`` of the journal up to ``bound`` bytes."""
        for line_no, (end, line) in enumerate(self.journal.read(0), 1):
            if end > bound:
                return
            yield line_no, end, line

    def _load_history(self, max_lines: int | None) -> None:
        """Note the next ``max_lines`` lines of the history (all when None).

        The lines are those of the journal as it was when the load began (``journal.size``):
        nothing is appended before the history is loaded, since every append path calls
        ``_ensure_history`` first.  ``_note_history`` counts, so a line is noted exactly once:
        a load is continued, and one that fails is forgotten entirely before anything else.
        A writer recovers damage in place (the good lines kept, the file moved aside, a notice);
        a reader raises CorruptStoreError as before."""
        if self._history_steps is None:
            self._history_bound = self.journal.size
            self._history_steps = self._history_lines(self._history_bound)
        steps, bound = self._history_steps, self._history_bound
        done = False
        count = 0
        try:
            for line_no, end, line in steps:
                try:
                    self._note_history(line)
                except (KeyError, TypeError, AttributeError) as exc:
                    raise CorruptFileError(
                        self.journal.path,
                        f"line {line_no} has the wrong shape (missing or bad {exc})",
                    ) from None
                count += 1
                if end >= bound:
                    done = True
                    break
                if max_lines is not None and count >= max_lines:
                    break
            else:
                done = True
        except CorruptFileError as exc:
            self._forget_history()
            if self.read_only:
                raise CorruptStoreError(
                    f"{self.path}: {exc}; open the session for writing to recover it"
                ) from None
            problem = self._recover_journal(exc, keep_view=True)  # reads the history again
            self.checkpoint(force=True)
            self.notices.append(
                f"{self.path}: {problem}; the session continues with what was recovered"
            )
            return
        except BaseException:
            self._forget_history()  # e.g. a line from a newer version: start again next time
            raise
        if done:
            self._end_history_steps()
            self._history_loaded = True
            self._meta_pending = self._pending
            self._pending_delta = 0

    def _end_history_steps(self) -> None:
        steps, self._history_steps = self._history_steps, None
        close = getattr(steps, "close", None)
        if close is not None:
            close()  # let go of the journal's bytes

    def _forget_history(self) -> None:
        """Drop a partial history load (nothing but the loader has noted anything yet)."""
        self._end_history_steps()
        self._known_ops.clear()
        self._local_ops.clear()
        self._local_ids.clear()
        self._acked.clear()
        self._pending = 0
        self._changes.clear()

    @staticmethod
    def _line_ops(line: Mapping[str, Any]) -> list[Op]:
        return [Op.from_dict(o) for o in line.get("ops", ())]

    def _check_version(self, line: Mapping[str, Any]) -> None:
        version = line.get("v", JOURNAL_VERSION)
        if not isinstance(version, int) or version > JOURNAL_VERSION:
            raise StoreError(
                f"{self.journal.path}: written by a newer roundtable (journal version "
                f"{version}, this version reads {JOURNAL_VERSION}); upgrade roundtable"
            )

    def _note_history(self, line: Mapping[str, Any]) -> None:
        self._check_version(line)
        _check_line(line)
        kind = line.get("t")
        if kind == "change":
            raw_ops = line.get("ops", ())
            for raw in raw_ops:
                op_id = raw["op_id"]
                self._local_ops.append(raw)
                self._local_ids.add(op_id)
                self._known_ops.add(op_id)
            self._pending += len(raw_ops)
            self._changes.append(
                {
                    "change_id": line.get("change_id"),
                    "label": line.get("label", "change"),
                    "undo_of": line.get("undo_of"),
                    "before": line.get("before", []),
                }
            )
        elif kind == "remote":
            self._known_ops.update(o["op_id"] for o in line.get("ops", ()))
        elif kind == "ack":
            for op_id in line.get("op_ids", ()):
                if op_id in self._local_ids and op_id not in self._acked:
                    self._acked.add(op_id)
                    self._pending -= 1

    def _replay_line(self, line: Mapping[str, Any], *, count_pending: bool) -> None:
        self._check_version(line)
        ops = self._line_ops(line)
        self._apply_ops(ops)
        if count_pending:
            if line.get("t") == "change":
                self._pending_delta += len(ops)
            elif line.get("t") == "ack":
                self._pending_delta -= len(line.get("op_ids", ()))

    def _apply_ops(self, ops: Iterable[Op]) -> None:
        for op in ops:
            key = (op.kind, op.record_id)
            doc = self.docs.get(key)
            if doc is None:
                doc = self.docs[key] = protocol.new_record_doc(op)
            if protocol.apply_op(doc, op):
                self._objects.pop(key, None)
                self._encoded.pop(key, None)

    def _latest_hlc(self) -> Hlc | None:
        """The latest timestamp in this unit's records: the clock moves past it before it
        issues its next one (a wall clock set back must not reorder our writes)."""
        latest = ""
        for doc in self.docs.values():
            for heads in doc["heads"].values():
                if heads and heads[0][1] > latest:
                    latest = heads[0][1]
        return Hlc.parse(latest) if latest else None

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, record_id: str) -> Record | None:
        key = (kind, record_id)
        obj = self._objects.get(key)
        if obj is None:
            doc = self.docs.get(key)
            if doc is None:
                return None
            obj = RECORD_TYPES[kind].from_fields(record_id, doc["fields"])
            self._objects[key] = obj
        return obj

    def fields_of(self, kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """``(record id, field values)`` of every record of ``kind`` as the view holds them
        (deleted ones too), without building records."""
        for (k, rid), doc in self.docs.items():
            if k == kind:
                yield rid, doc["fields"]

    def iter_records(self, kind: str, include_deleted: bool = False) -> Iterator[Record]:
        for k, rid in list(self.docs):
            if k != kind:
                continue
            obj = self.get(k, rid)
            if obj is not None and (include_deleted or not obj.deleted):
                yield obj

    # -- writes ----------------------------------------------------------------------------

    def write(
        self,
        label: str,
        changes: Sequence[tuple[str, str, Mapping[str, Any]]],
        *,
        event_id: str,
        session_id: str,
        undo_of: str | None = None,
    ) -> list[Op]:
        """Journal one change (many field writes) durably, then apply it.  Atomic: on any error
        nothing is applied."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        if self.closed:
            raise StoreError(f"{self.path}: store is closed")
        self._ensure_history()
        ops: list[Op] = []
        before: list[list[Any]] = []
        for kind, record_id, fields in changes:
            doc = self.docs.get((kind, record_id))
            for field, value in fields.items():
                try:
                    protocol.check_value(kind, field, value)
                except protocol.ProtocolError as exc:
                    raise StoreError(f"{self.path.name}: {exc}") from None
                if doc is None:  # the change creates this record
                    before.append([kind, record_id, field, None, False])
                elif field in doc["fields"]:
                    before.append([kind, record_id, field, doc["fields"][field], True])
                else:  # an existing record whose field was never written: it had its default
                    before.append([kind, record_id, field, _default_of(kind, field), True])
                hlc = self.clock.now()
                ops.append(
                    Op(
                        op_id=new_id(),
                        event_id=event_id,
                        session_id="" if kind == "event" else session_id,
                        record_id=record_id,
                        kind=kind,
                        field=field,
                        value=value,
                        hlc=hlc.encode(),
                        device=hlc.device,
                        base=protocol.field_base(doc, field),
                    )
                )
        if not ops:
            return []
        change_id = new_id()
        line = {
            "v": JOURNAL_VERSION,
            "t": "change",
            "change_id": change_id,
            "label": label,
            "undo_of": undo_of,
            "before": before,
            "ops": [o.to_dict() for o in ops],
        }
        self._append(line)
        self._apply_ops(ops)
        self._note_history(line)
        self._pending_delta += len(ops)
        self._tick()
        return ops

    def _append(self, line: dict[str, Any]) -> None:
        try:
            self.journal.append(line)
        except OSError as exc:
            raise StoreError(
                f"{self.journal.path}: not saved: {exc.strerror or exc}; nothing was changed"
            ) from None

    def _tick(self) -> None:
        self._changes_since_checkpoint += 1
        if self._changes_since_checkpoint >= self.checkpoint_every:
            self.checkpoint()

    def undo(self, *, event_id: str, session_id: str) -> str | None:
        self._ensure_history()
        undone = {c["undo_of"] for c in self._changes if c["undo_of"]}
        for change in reversed(self._changes):
            if change["undo_of"] or change["change_id"] in undone:
                continue
            if change["label"].startswith("create "):
                return None  # the session itself is not undone from the keyboard
            created = {
                (k, rid)
                for k, rid, _f, _v, existed in change["before"]
                if not existed and (k, rid) not in self._existing_before(change)
            }
            writes: dict[tuple[str, str], dict[str, Any]] = {}
            for kind, rid, field, value, existed in change["before"]:
                if (kind, rid) in created:
                    writes[(kind, rid)] = {"deleted": True}
                elif existed:
                    writes.setdefault((kind, rid), {})[field] = value
                else:
                    default = _default_of(kind, field)
                    writes.setdefault((kind, rid), {})[field] = default
            self.write(
                f"undo {change['label']}",
                [(k, rid, f) for (k, rid), f in writes.items()],
                event_id=event_id,
                session_id=session_id,
                undo_of=change["change_id"],
            )
            return change["label"]
        return None

    @staticmethod
    def _existing_before(change: Mapping[str, Any]) -> set[tuple[str, str]]:
        """Records the change touched that already existed (any field was there before)."""
        return {(k, rid) for k, rid, _f, _v, existed in change["before"] if existed}

    # -- outbox ----------------------------------------------------------------------------

    def pending_count(self) -> int:
        if self._history_loaded:
            return self._pending
        return max(self._meta_pending + self._pending_delta, 0)

    def outbox(self, limit: int | None = None) -> list[Op]:
        self._ensure_history()
        out: list[Op] = []
        for raw in self._local_ops:
            if limit is not None and len(out) >= limit:
                break
            if raw["op_id"] not in self._acked:
                out.append(Op.from_dict(raw))
        return out

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        self._ensure_history()
        new = [i for i in dict.fromkeys(op_ids) if i in self._local_ids and i not in self._acked]
        if not new:
            return 0
        line = {"v": JOURNAL_VERSION, "t": "ack", "op_ids": new}
        self._append(line)
        self._note_history(line)
        self._tick()
        return len(new)

    def apply_remote(self, ops: Iterable[Op]) -> int:
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only")
        self._ensure_history()
        fresh = [o for o in ops if o.op_id not in self._known_ops]
        fresh = list({o.op_id: o for o in fresh}.values())
        if not fresh:
            return 0
        line = {"v": JOURNAL_VERSION, "t": "remote", "ops": [o.to_dict() for o in fresh]}
        self._append(line)
        self._apply_ops(fresh)
        self._known_ops.update(o.op_id for o in fresh)
        for op in fresh:
            self.clock.observe(Hlc.parse(op.hlc))
        self._tick()
        return len(fresh)

    # -- checkpoint ------------------------------------------------------------------------

    def checkpoint(self, force: bool = False) -> None:
        """Write the view atomically (temp + fsync + rename).  Cheap to call when idle."""
        if self.read_only or self.closed:
            return
        if not force and self._changes_since_checkpoint == 0 and self.view_path.exists():
            return
        from roundtable.storage import CheckpointStorage

        meta = {
            "schema": STORE_SCHEMA,
            "journal_offset": self.journal.size,
            "pending": self.pending_count(),
            "written": _utc_now_iso(time.time()),
        }
        encoded = self._encoded
        records = []
        for n, (key, doc) in enumerate(self.docs.items(), start=1):
            text = encoded.get(key)
            if text is None:
                text = encoded[key] = _dumps(doc)
            records.append(f'"{n}":{text}')
        # the same document tinydb's own write would produce: {table: {doc_id: doc}}
        payload = '{"meta":{"1":' + _dumps(meta) + '},"records":{' + ",".join(records) + "}}"
        try:
            CheckpointStorage(self.view_path).write_encoded(payload)
        except OSError as exc:
            raise StoreError(f"{self.view_path}: checkpoint not written: {exc.strerror}") from None
        self._meta_pending = meta["pending"]
        self._pending_delta = 0
        self._changes_since_checkpoint = 0
        if self.path.parent.name == "sessions":
            self._write_summary(meta)

    def _write_summary(self, meta: Mapping[str, Any]) -> None:
        """The session's line of the sessions list, beside the view it was taken from: the
        list (the app's first screen) then reads a few hundred bytes per session instead of
        every view (5 MB at 5,000 entries).  It is a cache: ``read_summary`` takes it only
        while the journal and the view are exactly as they were when it was written, so a
        failure here loses nothing and is not reported."""
        from roundtable.storage import atomic_write_bytes

        session = self.get("session", self.path.name)
        if session is None:
            return
        entries = sum(
            1
            for (kind, _rid), doc in self.docs.items()
            if kind == "entry" and not doc["fields"].get("deleted", False)
        )
        try:
            view = self.view_path.stat()
            summary = {
                "schema": STORE_SCHEMA,
                "journal_offset": meta["journal_offset"],
                "view": [view.st_size, view.st_mtime_ns],
                "session": {k: getattr(session, k) for k in _SUMMARY_FIELDS},
                "entries": entries,
                "pending": meta["pending"],
            }
            atomic_write_bytes(self.path / SUMMARY_NAME, _dumps(summary).encode("utf-8"))
        except OSError:
            pass

    def close(self) -> None:
        """Checkpoint and let go.  A checkpoint that cannot be written (a full disk) loses
        nothing: the journal has every change and the next open replays it; it is reported as
        a notice, not an error."""
        if self.closed:
            return
        try:
            if not self.read_only:
                self.checkpoint()
        except StoreError as exc:
            self.notices.append(f"{exc}; every change is in the journal, which the next open "
                                "replays")  # fmt: skip
        finally:
            self._end_history_steps()
            self.journal.close()
            self._release_lock()
            self.closed = True


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _default_of(kind: str, field: str) -> Any:
    cls = RECORD_TYPES[kind]
    probe = cls(id="")
    return getattr(probe, field)


# ---------------------------------------------------------------------------------------------
# A session
# ---------------------------------------------------------------------------------------------


class SessionStore:
    """One session's records.  Every write is durable when the method returns."""

    def __init__(self, local: LocalStore, unit: Unit, session_id: str) -> None:
        self.local = local
        self.unit = unit
        self.session_id = session_id
        session = unit.get("session", session_id)
        if session is None:
            unit.close()
            raise UnknownSessionError(f"{unit.path}: holds no session record")
        self.event_id = session.event_id

    # context manager
    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.unit.path

    @property
    def session(self) -> Session:
        return self.unit.get("session", self.session_id)  # type: ignore[return-value]

    @property
    def event(self) -> Event:
        return self.local.event(self.event_id)

    def _write(self, label: str, changes, undo_of: str | None = None) -> list[Op]:
        ops = self.unit.write(
            label, changes, event_id=self.event_id, session_id=self.session_id, undo_of=undo_of
        )
        self._notify(sorted({(op.kind, op.record_id) for op in ops}))
        return ops

    def _now(self) -> str:
        return _utc_now_iso(self.local.wall())

    # -- writes ----------------------------------------------------------------------------

    def add_entry(
        self,
        entry_kind: str,
        text: str,
        delegations: Sequence[str] = (),
        crime_areas: Sequence[str] = (),
        priority: str = "",
        owner: str = "",
        due: str = "",
        status: str = "",
        agenda_item: str | None = None,
        parked: bool = False,
    ) -> Entry:
        if entry_kind not in ENTRY_KINDS:
            raise StoreError(f"unknown entry kind {entry_kind!r} (one of {', '.join(ENTRY_KINDS)})")
        if not text.strip():
            raise StoreError("an entry needs some text")
        if agenda_item is None:
            agenda_item = self.session.current_item
        if entry_kind == "action" and not status:
            status = "open"
        if priority not in ("", *PRIORITIES):
            raise StoreError(f"unknown priority {priority!r} (one of {', '.join(PRIORITIES)})")
        if status not in ("", *ACTION_STATUSES):
            raise StoreError(f"unknown status {status!r} (one of {', '.join(ACTION_STATUSES)})")
        entry = Entry(
            id=new_id(),
            session_id=self.session_id,
            entry_kind=entry_kind,
            text=text,
            delegations=list(delegations),
            crime_areas=list(crime_areas),
            priority=priority,
            owner=owner,
            due=due,
            status=status,
            agenda_item=agenda_item,
            parked=parked,
            created_at=self._now(),
        )
        self._write(f"add {'parked note' if parked else entry_kind}", [_creation(entry)])
        return self.unit.get("entry", entry.id)  # type: ignore[return-value]

    def update(self, kind: str, record_id: str, **fields: Any) -> list[Op]:
        current = self.unit.get(kind, record_id)
        if current is None:
            raise StoreError(f"no {kind} {record_id} in session {self.session_id}")
        changed = {
            k: v
            for k, v in fields.items()
            if k not in current.to_fields()
            or getattr(current, k) != v
            or k in _conflicted(self.unit, kind, record_id)
        }
        if not changed:
            return []
        label = f"edit {kind.replace('_', ' ')} {', '.join(sorted(changed))}"
        return self._write(label, [(kind, record_id, changed)])

    def delete(self, kind: str, record_id: str) -> list[Op]:
        current = self.unit.get(kind, record_id)
        if current is None or current.deleted:
            raise StoreError(f"no {kind} {record_id} in session {self.session_id}")
        what = getattr(current, "entry_kind", kind.replace("_", " "))
        return self._write(f"delete {what}", [(kind, record_id, {"deleted": True})])

    def undo(self) -> str | None:
        label = self.unit.undo(event_id=self.event_id, session_id=self.session_id)
        self._notify(None)
        return label

    def set_attendance(
        self, country: str, status: str | None = None, delegates: Sequence[str] | None = None
    ) -> Attendance:
        from roundtable.model import ATTENDANCE_STATUSES

        if status is not None and status not in ATTENDANCE_STATUSES:
            raise StoreError(f"unknown attendance status {status!r}")
        record_id = stable_id(self.session_id, country)
        current = self.unit.get("attendance", record_id)
        fields: dict[str, Any] = {}
        if current is None or current.deleted:
            fields = {"session_id": self.session_id, "country": country, "deleted": False}
            if current is None:
                fields.pop("deleted")
        if status is not None and (current is None or current.status != status):
            fields["status"] = status
        if delegates is not None and (current is None or current.delegates != list(delegates)):
            fields["delegates"] = list(delegates)
        if fields:
            self._write(f"attendance {country}", [("attendance", record_id, fields)])
        return self.unit.get("attendance", record_id)  # type: ignore[return-value]

    def add_speech(
        self,
        country: str,
        mode: str,
        seconds: int,
        started_at: str,
        agenda_item: str = "",
        passed: bool = False,
    ) -> Speech:
        speech = Speech(
            id=new_id(),
            session_id=self.session_id,
            country=country,
            mode=mode,
            agenda_item=agenda_item,
            started_at=started_at,
            seconds=int(seconds),
            passed=passed,
        )
        self._write(f"speech {country}", [_creation(speech)])
        return self.unit.get("speech", speech.id)  # type: ignore[return-value]

    def add_agenda_item(
        self,
        title: str,
        minutes: int,
        prompts: Sequence[str] = (),
        item_kind: str = "discussion",
        position: int | None = None,
    ) -> AgendaItem:
        if position is None:
            position = len(self.records("agenda_item"))
        item = AgendaItem(
            id=new_id(),
            session_id=self.session_id,
            position=position,
            title=title,
            minutes=minutes,
            prompts=list(prompts),
            item_kind=item_kind,
        )
        self._write("add agenda item", [_creation(item)])
        return self.unit.get("agenda_item", item.id)  # type: ignore[return-value]

    # --- The meeting's running state (issue 16) ---
    # The current item, item clocks, the list of speakers, the tour de table, the floor, close
    # and reopen are records like entries: they survive a restart and travel with sync.
    # ``roundtable.meeting`` (pure) reads them; these methods write them, each as one change.

    def subscribe(self, listener: Callable[[list[tuple[str, str]] | None], None]) -> None:
        """Call ``listener(keys)`` after each change of this session's records made through
        this SessionStore: ``keys`` are the ``(kind, record id)`` pairs written, or None when
        anything may have changed (undo, ops from sync).  The app turns it into its
        session-changed signal."""
        self.__dict__.setdefault("_listeners", []).append(listener)

    def _notify(self, keys: list[tuple[str, str]] | None) -> None:
        for listener in list(self.__dict__.get("_listeners", ())):
            listener(keys)

    def _record(self, kind: str, record_id: str) -> Any:
        """A record of this session as its dataclass (None if unknown)."""
        return self.unit.get(kind, record_id)

    def _now_ms(self) -> int:
        return int(self.local.wall() * 1000)

    @property
    def closed(self) -> bool:
        return self.session.status == "closed"

    def check_open(self) -> None:
        """Raise StoreError, naming how to reopen, when the session is closed (a capture or a
        new turn must not land silently in closed minutes)."""
        if self.closed:
            raise StoreError(
                f"session {self.session_id[:8]} is closed: reopen it with "
                f'`roundtable reopen {self.session_id[:8]}` or the palette\'s "session: reopen"'
            )

    def current_item_id(self) -> str:
        """The agenda item being discussed: ``Session.current_item``, else the first item."""
        current = self.session.current_item
        item = self._record("agenda_item", current) if current else None
        if item is not None and not item.deleted:  # the common case: no scan of the records
            return current
        agenda = self.records("agenda_item")
        return agenda[0].id if agenda else ""

    def clock_events(self) -> list[Any]:
        return self.records("clock_event")

    def _clock_writes(self, item_id: str, action: str, at: int) -> list[tuple[str, str, dict]]:
        from roundtable import meeting
        from roundtable.model import ClockEvent

        changes = []
        for item, act in meeting.clock_changes(self.clock_events(), item_id, action):
            event = ClockEvent(
                id=new_id(), session_id=self.session_id, agenda_item=item, action=act, at=at
            )
            changes.append(_creation(event))
            if act == "start":
                agenda_item = self._record("agenda_item", item)
                if agenda_item is not None and not agenda_item.started_at:
                    changes.append(("agenda_item", item, {"started_at": _utc_now_iso(at / 1000)}))
        return changes

    def item_elapsed(self, item_id: str, now_ms: int | None = None) -> float:
        """Seconds the item's clock has run (``meeting.elapsed`` of its clock events)."""
        from roundtable import meeting

        now = self._now_ms() if now_ms is None else now_ms
        return meeting.elapsed(self.clock_events(), item_id, now)

    def go_to_item(self, item_id: str) -> None:
        """Make ``item_id`` the current item: the previous item's clock stops and this one's
        starts (on a closed session only the current item moves), in one change."""
        item = self._record("agenda_item", item_id)
        if item is None or item.deleted or getattr(item, "session_id", "") != self.session_id:
            raise StoreError(f"no agenda item {item_id} in session {self.session_id}")
        changes = [] if self.closed else self._clock_writes(item_id, "start", self._now_ms())
        if self.session.current_item != item_id:
            changes.append(("session", self.session_id, {"current_item": item_id}))
        if changes:
            self._write(f"go to item {item.position + 1}", changes)

    def clock(self, action: str, item_id: str | None = None) -> bool:
        """Start, pause, resume or stop an item's clock (the current item by default); starting
        one stops any other.  False when it changed nothing."""
        from roundtable.model import CLOCK_ACTIONS

        if action not in CLOCK_ACTIONS:
            raise StoreError(f"unknown clock action {action!r} (one of {', '.join(CLOCK_ACTIONS)})")
        item = item_id if item_id is not None else self.current_item_id()
        if not item:
            return False
        if action in ("start", "resume"):
            self.check_open()
        changes = self._clock_writes(item, action, self._now_ms())
        if not changes:
            return False
        self._write(f"{action} clock", changes)
        return True

    def clock_state(self, item_id: str) -> str:
        from roundtable import meeting

        return meeting.clock_state(self.clock_events(), item_id)

    # the floor and the lists of speakers

    def speeches(self) -> list[Any]:
        return self.records("speech")

    def floor(self) -> Speech | None:
        """The speech in progress, or None when nobody has the floor."""
        from roundtable import meeting

        floor = self.session.floor
        if not floor:
            return None
        speech = self._record("speech", floor)
        return meeting.floor_speech(floor, [speech] if speech is not None else [])

    def floor_speaker(self) -> Any:
        speech = self.floor()
        if speech is None or not speech.speaker:
            return None
        return self._record("speaker", speech.speaker)

    def _end_floor_writes(self, at: int, *, keep: bool = True) -> list[tuple[str, str, dict]]:
        """End the turn in progress: the speech gets its end and length and its speaker is done
        (``keep=False``: the turn is withdrawn, as when a delegation is skipped)."""
        from roundtable import meeting

        speech = self.floor()
        changes: list[tuple[str, str, dict]] = []
        if speech is not None:
            if keep:
                started = meeting.iso_ms(speech.started_at) or at
                seconds = max(0, (at - started) // 1000)
                fields = {"ended_at": _utc_now_iso(at / 1000), "seconds": seconds}
                changes.append(("speech", speech.id, fields))
            else:
                changes.append(("speech", speech.id, {"deleted": True}))
            speaker = self._record("speaker", speech.speaker) if speech.speaker else None
            if speaker is not None and speaker.status == "speaking" and keep:
                changes.append(("speaker", speaker.id, {"status": "done"}))
        if self.session.floor:
            changes.append(("session", self.session_id, {"floor": ""}))
        return changes

    def end_floor(self) -> Speech | None:
        """End the turn in progress; returns the ended speech (None if nobody had the floor)."""
        speech = self.floor()
        changes = self._end_floor_writes(self._now_ms())
        if changes:
            self._write("end turn", changes)
        return self._record("speech", speech.id) if speech is not None else None  # type: ignore[return-value]

    def give_floor(self, speaker_id: str) -> Speech:
        """Give the floor to a waiting speaker: the previous turn ends in the same change (one
        floor for the tour and the list of speakers)."""
        self.check_open()
        speaker = self._record("speaker", speaker_id)
        if speaker is None or speaker.deleted or speaker.status in ("removed", "done"):
            raise StoreError(f"no waiting speaker {speaker_id} in session {self.session_id}")
        at = self._now_ms()
        changes = self._end_floor_writes(at)
        speech = Speech(
            id=new_id(),
            session_id=self.session_id,
            country=speaker.country,
            mode=speaker.mode,
            agenda_item=speaker.agenda_item,
            started_at=_utc_now_iso(at / 1000),
            speaker=speaker.id,
        )
        changes.append(_creation(speech))
        changes.append(("speaker", speaker.id, {"status": "speaking"}))
        changes.append(("session", self.session_id, {"floor": speech.id}))
        self._write(f"floor to {speaker.country}", changes)
        return self._record("speech", speech.id)  # type: ignore[return-value]

    def speakers(self, item_id: str | None = None, mode: str = "queue") -> list[Any]:
        """An item's speakers of one list, in stored order (removed ones left out)."""
        from roundtable import meeting

        item = self.current_item_id() if item_id is None else item_id
        return meeting.speakers_of(self.records("speaker"), item, mode)

    def waiting_speakers(self, item_id: str | None = None, mode: str = "queue") -> list[Any]:
        """Who waits on the list, in speaking order (points of order, then the balanced order
        when the session uses it)."""
        from roundtable import meeting

        item = self.current_item_id() if item_id is None else item_id
        return meeting.waiting(
            self.records("speaker"),
            item,
            mode=mode,
            balanced=self.session.balanced_order and mode == "queue",
            heard=meeting.heard_on(self.speeches(), item),
        )

    def add_speaker(
        self,
        country: str,
        *,
        item_id: str | None = None,
        point_of_order: bool = False,
        limit_seconds: int = 0,
        mode: str = "queue",
    ) -> Any:
        """Put a delegation on an item's list of speakers (a point of order goes to the top)."""
        from roundtable import meeting
        from roundtable.model import Speaker

        self.check_open()
        item = self.current_item_id() if item_id is None else item_id
        rows = self.speakers(item, mode)
        if any(s.country == country and s.status in ("waiting", "speaking") for s in rows):
            raise StoreError(f"{country} is already on the list of speakers")
        if limit_seconds < 0:
            raise StoreError(f"speaking-time limit must be 0 or more seconds, got {limit_seconds}")
        waiting = [s for s in rows if s.status == "waiting"]
        order = meeting.order_before(waiting) if point_of_order else meeting.order_after(rows)
        speaker = Speaker(
            id=new_id(),
            session_id=self.session_id,
            agenda_item=item,
            country=country,
            mode=mode,
            order=order,
            point_of_order=point_of_order,
            limit_seconds=limit_seconds,
        )
        label = "point of order" if point_of_order else "add speaker"
        self._write(f"{label} {country}", [_creation(speaker)])
        return self._record("speaker", speaker.id)

    def remove_speaker(self, speaker_id: str) -> None:
        speaker = self._record("speaker", speaker_id)
        if speaker is None or speaker.status != "waiting":
            raise StoreError("only a waiting speaker can be removed from the list")
        self._write(
            f"remove speaker {speaker.country}", [("speaker", speaker_id, {"status": "removed"})]
        )

    def move_speaker(self, speaker_id: str, step: int) -> bool:
        """Move a waiting speaker one place up (-1) or down (+1) in the list as shown."""
        from roundtable import meeting

        speaker = self._record("speaker", speaker_id)
        if speaker is None:
            raise StoreError(f"no speaker {speaker_id} in session {self.session_id}")
        rows = [
            s
            for s in self.waiting_speakers(speaker.agenda_item, speaker.mode)
            if s.point_of_order == speaker.point_of_order
        ]
        writes = meeting.swap_orders(rows, speaker_id, step)
        if not writes:
            return False
        self._write(
            f"move speaker {speaker.country}",
            [("speaker", sid, {"order": order}) for sid, order in writes],
        )
        return True

    def set_speaker_limit(self, speaker_id: str, seconds: int) -> None:
        if seconds < 0:
            raise StoreError(f"speaking-time limit must be 0 or more seconds, got {seconds}")
        self.update("speaker", speaker_id, limit_seconds=int(seconds))

    def set_balanced_order(self, on: bool) -> None:
        self.update("session", self.session_id, balanced_order=bool(on))

    def next_speaker(self, item_id: str | None = None, mode: str = "queue") -> Speech | None:
        """Give the floor to the first waiting speaker; with nobody waiting, end the turn."""
        waiting = self.waiting_speakers(item_id, mode)
        if not waiting:
            self.end_floor()
            return None
        return self.give_floor(waiting[0].id)

    # the tour de table (speakers of mode "tour")

    def tour_start(
        self, codes: Sequence[str], limit_seconds: int, item_id: str | None = None
    ) -> int:
        """Put on the item's tour every delegation of ``codes`` (in that order) not already on
        it; returns how many were added."""
        from roundtable import meeting
        from roundtable.model import Speaker

        self.check_open()
        item = self.current_item_id() if item_id is None else item_id
        rows = self.speakers(item, "tour")
        known = {s.country for s in rows}
        order = meeting.order_after(rows)
        changes = []
        for code in dict.fromkeys(codes):
            if code in known:
                continue
            speaker = Speaker(
                id=new_id(),
                session_id=self.session_id,
                agenda_item=item,
                country=code,
                mode="tour",
                order=order,
                limit_seconds=limit_seconds,
            )
            changes.append(_creation(speaker))
            order += meeting.ORDER_STEP
        if changes:
            self._write("tour de table", changes)
        return len(changes)

    def tour_rotate(self, item_id: str | None = None) -> bool:
        """Start the tour one delegation later (the first waiting one goes to the end); only
        before anyone on it has spoken."""
        from roundtable import meeting

        item = self.current_item_id() if item_id is None else item_id
        rows = self.speakers(item, "tour")
        if not rows or any(s.status != "waiting" for s in rows):
            return False
        first = rows[0]
        self._write(
            f"rotate tour {first.country}",
            [("speaker", first.id, {"order": meeting.order_after(rows)})],
        )
        return True

    def _tour_target(self, item: str) -> Any:
        """The delegation a tour key acts on: the one speaking, else the next waiting one."""
        from roundtable import meeting

        speaker = self.floor_speaker()
        if speaker is not None and speaker.mode == "tour" and speaker.agenda_item == item:
            return speaker
        pending = meeting.not_yet_heard(self.records("speaker"), item)
        return pending[0] if pending else None

    def tour_next(self, item_id: str | None = None) -> Speech | None:
        """End the turn in progress and give the floor to the next delegation of the tour."""
        from roundtable import meeting

        item = self.current_item_id() if item_id is None else item_id
        pending = meeting.not_yet_heard(self.records("speaker"), item)
        if not pending:
            self.end_floor()
            return None
        return self.give_floor(pending[0].id)

    def tour_pass(self, item_id: str | None = None) -> str | None:
        """The speaking (or next) delegation passes: marked passed, recorded as a passed turn,
        and the floor goes to the next one.  Returns the code that passed."""
        item = self.current_item_id() if item_id is None else item_id
        speaker = self._tour_target(item)
        if speaker is None:
            return None
        self.check_open()
        at = self._now_ms()
        changes = self._end_floor_writes(at, keep=False)
        passed = Speech(
            id=new_id(),
            session_id=self.session_id,
            country=speaker.country,
            mode="tour",
            agenda_item=item,
            started_at=_utc_now_iso(at / 1000),
            ended_at=_utc_now_iso(at / 1000),
            passed=True,
            speaker=speaker.id,
        )
        changes.append(_creation(passed))
        changes.append(("speaker", speaker.id, {"status": "passed"}))
        self._write(f"{speaker.country} passes", changes)
        self.tour_next(item)
        return speaker.country

    def tour_skip(self, item_id: str | None = None) -> str | None:
        """The speaking (or next) delegation is not in the room: the first time it moves to the
        end of the tour, marked; the second time it is out ("skipped").  The floor goes on."""
        from roundtable import meeting

        item = self.current_item_id() if item_id is None else item_id
        speaker = self._tour_target(item)
        if speaker is None:
            return None
        self.check_open()
        changes = []
        if self.floor_speaker() is not None and self.floor_speaker().id == speaker.id:
            changes += self._end_floor_writes(self._now_ms(), keep=False)
        if speaker.skips:
            fields: dict[str, Any] = {"status": "skipped", "skips": speaker.skips + 1}
        else:
            rows = self.speakers(item, "tour")
            fields = {"status": "waiting", "skips": 1, "order": meeting.order_after(rows)}
        changes.append(("speaker", speaker.id, fields))
        self._write(f"skip {speaker.country}", changes)
        self.tour_next(item)
        return speaker.country

    # close, reopen, observers, moving entries

    def close_session(self, accept: Sequence[str] = ()) -> None:
        """Close: every item clock stops, the turn in progress ends, ``accept`` joins the
        accepted findings; one change."""
        at = self._now_ms()
        session = self.session
        accepted = list(dict.fromkeys([*session.accepted_gaps, *accept]))
        changes = self._clock_writes("", "stop", at) + self._end_floor_writes(at)
        fields: dict[str, Any] = {"status": "closed", "closed_at": _utc_now_iso(at / 1000)}
        if accepted != session.accepted_gaps:
            fields["accepted_gaps"] = accepted
        changes.append(("session", self.session_id, fields))
        self._write("close session", changes)

    def reopen(self) -> None:
        """Reopen a closed session (recorded, so the minutes can say it was reopened)."""
        if not self.closed:
            raise StoreError(f"session {self.session_id[:8]} is not closed")
        self.update("session", self.session_id, status="running", reopened_at=self._now())

    def add_observer(self, country: str) -> None:
        """Confirm a delegation from another region as an observer of this session."""
        observers = list(self.session.observers)
        if country not in observers:
            self.update("session", self.session_id, observers=[*observers, country])

    def move_entry(self, entry_id: str, item_id: str) -> bool:
        """File an entry under another agenda item; False when it is already there."""
        entry = self._record("entry", entry_id)
        item = self._record("agenda_item", item_id)
        if entry is None or entry.deleted:
            raise StoreError(f"no entry {entry_id} in session {self.session_id}")
        if item is None or item.deleted:
            raise StoreError(f"no agenda item {item_id} in session {self.session_id}")
        return bool(self.update("entry", entry_id, agenda_item=item_id))

    # --- end of the meeting's running state ---

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, record_id: str) -> Record | None:
        return self.unit.get(kind, record_id)

    def doc(self, kind: str, record_id: str) -> dict[str, Any] | None:
        return self.unit.docs.get((kind, record_id))

    def records(self, kind: str, include_deleted: bool = False) -> list[Any]:
        items = list(self.unit.iter_records(kind, include_deleted))
        if kind == "agenda_item":
            items.sort(key=lambda r: (r.position, r.id))
        elif kind == "entry":
            items.sort(key=lambda r: (r.created_at, r.id))
        elif kind == "speech":
            items.sort(key=lambda r: (r.started_at, r.id))
        elif kind == "attendance":
            items.sort(key=lambda r: r.country)
        else:
            items.sort(key=lambda r: r.id)
        return items

    def entry_counts(self) -> dict[str, int]:
        """Entries (not deleted) per agenda item id, counted on the view: building 5,000
        records only to count them took ~45 ms of the run screen's start."""
        counts: dict[str, int] = {}
        no_item = _default_of("entry", "agenda_item")
        for _rid, fields in self.unit.fields_of("entry"):
            if not fields.get("deleted", False):
                item = fields.get("agenda_item", no_item)
                counts[item] = counts.get(item, 0) + 1
        return counts

    def latest_entries(
        self, *, agenda_item: str | None = None, entry_kind: str | None = None, limit: int
    ) -> tuple[int, list[Entry]]:
        """How many entries (not deleted) belong to ``agenda_item`` (any when None) and are of
        ``entry_kind`` (any when None), and the latest ``limit`` of them in the order of
        ``records("entry")``; only those are built as records."""
        no_item = _default_of("entry", "agenda_item")
        default_kind = _default_of("entry", "entry_kind")
        keys: list[tuple[str, str]] = []
        for rid, fields in self.unit.fields_of("entry"):
            if fields.get("deleted", False):
                continue
            if agenda_item is not None and fields.get("agenda_item", no_item) != agenda_item:
                continue
            if entry_kind is not None and fields.get("entry_kind", default_kind) != entry_kind:
                continue
            keys.append((fields.get("created_at", ""), rid))
        keys.sort()
        latest = keys[-limit:] if limit > 0 else []
        return len(keys), [self.unit.get("entry", rid) for _created, rid in latest]

    def snapshot(self, countries: Mapping[str, str]) -> SessionSnapshot:
        attendance = self.records("attendance")
        entries = self.records("entry")
        speeches = self.records("speech")
        codes: set[str] = {a.country for a in attendance} | {s.country for s in speeches}
        for e in entries:
            codes.update(e.delegations)
            if e.owner in countries:
                codes.add(e.owner)
        return SessionSnapshot(
            event=self.event,
            session=self.session,
            agenda=self.records("agenda_item"),
            attendance=attendance,
            entries=entries,
            speeches=speeches,
            countries={c: countries[c] for c in sorted(codes) if c in countries},
            clock_events=self.clock_events(),
        )

    # -- sync and life cycle -----------------------------------------------------------------

    def outbox(self, limit: int | None = None) -> list[Op]:
        return self.unit.outbox(limit)

    def pending_count(self) -> int:
        return self.unit.pending_count()

    def load_history_step(self, max_lines: int = 500) -> bool:
        """Read the next slice of the history; True once it is all loaded (``Unit``)."""
        return self.unit.load_history_step(max_lines)

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        return self.unit.mark_acked(op_ids)

    def apply_remote(self, ops: Iterable[Op]) -> int:
        applied = self.unit.apply_remote(ops)
        if applied:
            self._notify(None)
        return applied

    def checkpoint(self) -> None:
        self.unit.checkpoint()

    @property
    def read_only(self) -> bool:
        return self.unit.read_only

    def close(self) -> None:
        if not self.unit.closed:
            if not self.unit.read_only:
                self.local._forget(self.unit)
            self.unit.close()


def _creation(record: Record) -> tuple[str, str, dict[str, Any]]:
    """The field writes that create a record: every field that differs from its default."""
    defaults = type(record)(id=record.id).to_fields()
    fields = {k: v for k, v in record.to_fields().items() if v != defaults[k]}
    if not fields:
        fields = {"deleted": False}
    return (record.KIND, record.id, fields)


def _conflicted(unit: Unit, kind: str, record_id: str) -> set[str]:
    doc = unit.docs.get((kind, record_id))
    if doc is None:
        return set()
    return {f for f, heads in doc["heads"].items() if len(heads) > 1}


# ---------------------------------------------------------------------------------------------
# The home directory
# ---------------------------------------------------------------------------------------------


class LocalStore:
    """Everything on this laptop: events and sessions under one home directory."""

    def __init__(
        self,
        home: Path | str,
        *,
        clock: HlcClock | None = None,
        wall: Callable[[], float] | None = None,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.home = Path(home)
        self.wall = wall or time.time
        self.checkpoint_every = checkpoint_every
        self.device = self._device_id()
        self.clock = clock or HlcClock(self.device, self.wall)
        self._open: dict[Path, Unit] = {}
        self.notices: list[str] = []
        """One-line messages for the user from the units opened so far (e.g. a unit brought
        forward from an older store schema, with where its backup is)."""
        self.skipped: list[str] = []
        """One line per session ``sessions()`` could not read (newer schema, damaged), with why."""

    # -- set-up ----------------------------------------------------------------------------

    def _device_id(self) -> str:
        path = self.home / "device.json"
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                device = data["device"]
                if isinstance(device, str) and device:
                    return device
            except (OSError, ValueError, KeyError, TypeError):
                pass
            raise StoreError(f"{path}: not a device file; move it aside to get a new device id")
        device = f"lap-{secrets.token_hex(4)}"
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            from roundtable.storage import atomic_write_bytes

            atomic_write_bytes(path, json.dumps({"device": device}).encode())
        except OSError as exc:
            raise StoreError(f"{self.home}: cannot create the store here: {exc.strerror}") from None
        return device

    def _unit(
        self,
        path: Path,
        *,
        read_only: bool = False,
        create: bool = False,
        lazy_history: bool = False,
    ) -> Unit:
        unit = self._open.get(path)
        if unit is not None and not unit.closed:
            return unit
        unit = Unit(
            path,
            self.clock,
            read_only=read_only,
            checkpoint_every=self.checkpoint_every,
            create=create,
            notices=self.notices,
            lazy_history=lazy_history,
        )
        if not read_only:
            self._open[path] = unit
        return unit

    def _forget(self, unit: Unit) -> None:
        if self._open.get(unit.path) is unit:
            del self._open[unit.path]

    def _event_path(self, event_id: str) -> Path:
        return self.home / "events" / event_id

    def _session_path(self, session_id: str) -> Path:
        return self.home / "sessions" / session_id

    # -- events ----------------------------------------------------------------------------

    def create_event(self, name: str, venue: str = "", starts: str = "", ends: str = "") -> Event:
        name = name.strip()
        if not name:
            raise StoreError("an event needs a name")
        if self.find_event(name) is not None:
            raise StoreError(f"an event named {name!r} already exists")
        event = Event(id=new_id(), name=name, venue=venue, starts=starts, ends=ends)
        unit = self._unit(self._event_path(event.id), create=True)
        try:
            unit.write("create event", [_creation(event)], event_id=event.id, session_id="")
        finally:
            self._forget(unit)
            unit.close()
        return event

    def event(self, event_id: str) -> Event:
        path = self._event_path(event_id)
        unit = self._open.get(path)
        if unit is None:
            if not path.is_dir():
                return Event(id=event_id, name="(event not on this laptop yet)")
            unit = Unit(path, self.clock, read_only=True)
        found = unit.get("event", event_id)
        return found if isinstance(found, Event) else Event(id=event_id)

    def events(self) -> list[Event]:
        base = self.home / "events"
        if not base.is_dir():
            return []
        out = [self.event(p.name) for p in sorted(base.iterdir()) if p.is_dir()]
        return sorted(out, key=lambda e: (e.name, e.id))

    def find_event(self, name_or_id: str) -> Event | None:
        for event in self.events():
            if event.id == name_or_id or event.name.casefold() == name_or_id.casefold():
                return event
        return None

    # -- sessions --------------------------------------------------------------------------

    def create_session(
        self,
        event_id: str,
        region: str,
        title: str,
        agenda: Sequence[Mapping[str, Any]],
        room: str = "",
        date: str = "",
        facilitator: str = "",
        rapporteur: str = "",
        plan: str = "",
    ) -> Session:
        if region not in REGIONS:
            raise StoreError(f"unknown region {region!r} (one of {', '.join(REGIONS)})")
        if not self._event_path(event_id).is_dir():
            raise StoreError(f"no event {event_id} on this laptop")
        session = Session(
            id=new_id(),
            event_id=event_id,
            region=region,
            title=title,
            room=room,
            date=date,
            facilitator=facilitator,
            rapporteur=rapporteur,
            plan=plan,
        )
        changes = [_creation(session)]
        for n, item in enumerate(agenda):
            changes.append(
                _creation(
                    AgendaItem(
                        id=new_id(),
                        session_id=session.id,
                        position=n,
                        title=str(item["title"]),
                        minutes=int(item.get("minutes", 10)),
                        prompts=list(item.get("prompts", [])),
                        item_kind=str(item.get("item_kind", "discussion")),
                    )
                )
            )
        unit = self._unit(self._session_path(session.id), create=True)
        try:
            unit.write("create session", changes, event_id=event_id, session_id=session.id)
        finally:
            self._forget(unit)
            unit.close()
        return session

    def session_ids(self) -> list[str]:
        base = self.home / "sessions"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir())

    def resolve_session(self, text: str) -> str:
        text = text.strip().lower()
        ids = self.session_ids()
        if text in ids:
            return text
        if len(text) >= 4:
            matches = [i for i in ids if i.startswith(text)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownSessionError(
                    f"session prefix {text!r} matches {len(matches)} sessions; give more of the id"
                )
        raise UnknownSessionError(
            f"no session {quote(text)} in {self.home}; see `roundtable sessions`"
        )

    def open_session(
        self, session_id: str, read_only: bool = False, *, lazy_history: bool = False
    ) -> SessionStore:
        """The session's records.  ``lazy_history`` (a writer; for the app): open with the view
        and the journal past it only, and read the history (outbox, undo stack, known ops) later
        with ``SessionStore.load_history_step`` or at the first write.  Readers are always lazy."""
        path = self._session_path(session_id)
        if not path.is_dir():
            raise UnknownSessionError(f"no session {quote(session_id)} in {self.home}")
        if read_only:
            # its own lock-free view, so closing it never closes the writer's unit
            unit = Unit(path, self.clock, read_only=True)
            return SessionStore(self, unit, session_id)
        held = self._open.get(path)
        if held is not None and not held.closed:
            raise SessionLockedError(
                f"session {session_id} is already open in this roundtable; close it first"
            )
        return SessionStore(self, self._unit(path, lazy_history=lazy_history), session_id)

    def sessions(self, event_id: str | None = None) -> list[SessionSummary]:
        """The readable sessions; those that cannot be read are named in ``skipped``."""
        self.skipped.clear()
        out = []
        names: dict[str, str] = {}
        for sid in self.session_ids():
            path = self._session_path(sid)
            unit = self._open.get(path)
            cached = read_summary(path, sid) if unit is None else None
            if cached is not None:
                if event_id and cached.event_id != event_id:
                    continue
                if cached.event_id not in names:
                    names[cached.event_id] = self.event(cached.event_id).name
                out.append(dataclasses.replace(cached, event_name=names[cached.event_id]))
                continue
            try:
                if unit is None:
                    unit = Unit(path, self.clock, read_only=True)
            except StoreError as exc:
                self.skipped.append(f"session {sid} not listed: {exc}")
                continue  # and reported again when the session itself is opened
            s = unit.get("session", sid)
            if not isinstance(s, Session) or (event_id and s.event_id != event_id):
                continue
            if s.event_id not in names:
                names[s.event_id] = self.event(s.event_id).name
            entries = sum(1 for _ in unit.iter_records("entry"))
            out.append(
                SessionSummary(
                    s.id,
                    s.event_id,
                    names[s.event_id],
                    s.region,
                    s.title,
                    s.status,
                    s.date,
                    entries,
                    unit.pending_count(),
                )
            )
        return out

    # -- sync ------------------------------------------------------------------------------

    def units(self) -> list[tuple[str, str, Path]]:
        """(event_id, session_id or "", path) of every unit, events first."""
        out: list[tuple[str, str, Path]] = []
        for base, is_event in (("events", True), ("sessions", False)):
            directory = self.home / base
            if not directory.is_dir():
                continue
            for p in sorted(directory.iterdir()):
                if not p.is_dir():
                    continue
                if is_event:
                    out.append((p.name, "", p))
                else:
                    try:
                        unit = self._open.get(p) or Unit(p, self.clock, read_only=True)
                    except StoreError:
                        continue
                    s = unit.get("session", p.name)
                    if isinstance(s, Session):
                        out.append((s.event_id, p.name, p))
        return out

    def with_unit(self, path: Path, create: bool = False) -> tuple[Unit, bool]:
        """A writable unit for sync: the one already open in this process, or a short-lived one
        (the caller must call ``release``)."""
        unit = self._open.get(path)
        if unit is not None and not unit.closed:
            return unit, False
        return self._unit(path, create=create), True

    def release(self, unit: Unit, opened: bool) -> None:
        if opened:
            self._forget(unit)
            unit.close()

    def unit_path_for(self, op: Op) -> Path:
        return self._session_path(op.session_id) if op.session_id else self._event_path(op.event_id)

    def apply_remote(self, ops: Iterable[Op]) -> int:
        by_unit: dict[Path, list[Op]] = {}
        for op in ops:
            by_unit.setdefault(self.unit_path_for(op), []).append(op)
        applied = 0
        for path, unit_ops in by_unit.items():
            unit, opened = self.with_unit(path, create=True)
            try:
                applied += unit.apply_remote(unit_ops)
            finally:
                self.release(unit, opened)
        return applied

    def pending_count(self) -> int:
        total = 0
        paths = [
            p
            for base in ("events", "sessions")
            if (self.home / base).is_dir()
            for p in sorted((self.home / base).iterdir())
            if p.is_dir()
        ]
        for path in paths:  # each unit read once (units() would read sessions twice)
            unit = self._open.get(path)
            try:
                if unit is None:
                    unit = Unit(path, self.clock, read_only=True)
            except StoreError:
                continue
            total += unit.pending_count()
        return total

    def close(self) -> None:
        for unit in list(self._open.values()):
            unit.close()
        self._open.clear()
