"""One unit: a directory holding one event's or one session's records.

``journal.jsonl`` (the write-ahead journal: every change is one line, appended and flushed
before the call returns), ``view.json`` (the checkpoint: every record's merged fields and the
journal offset it covers), ``summary.json`` (a session's line of the sessions list) and
``lock`` (one writer).  On open the journal past the view's offset is replayed (idempotent by
op id); the history (outbox, undo stack, known ops) is read at once, or later in slices for a
writer opened with ``lazy_history`` (the app).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable import protocol
from roundtable.model import RECORD_TYPES, STORE_SCHEMA, Hlc, HlcClock, Op, Record, Session, new_id
from roundtable.osfiles import flush_dir, private_dirs
from roundtable.snapshot import shown
from roundtable.store import checkpoint as view_file
from roundtable.store import crypto, migrate, recovery
from roundtable.store.errors import (
    CorruptFileError,
    CorruptStoreError,
    StoreError,
    UnknownSessionError,
)
from roundtable.store.history import History, OutboxHistory, check_line, default_of, line_ops
from roundtable.store.journal import JOURNAL_VERSION, Journal, decode_line
from roundtable.store.lock import UnitLock
from roundtable.store.summary import SUMMARY_NAME, write_summary

if TYPE_CHECKING:
    from roundtable.store.crypto import SessionCipher

CHECKPOINT_EVERY = 200
_DOC_KEYS = frozenset(("id", "kind", "fields", "heads", "replaced"))
"""What every record of a view holds (``Unit._check_doc``)."""


def append_line(journal: Journal, line: dict[str, Any]) -> None:
    """Journal one line durably; a failure leaves the journal as it was (StoreError)."""
    try:
        journal.append(line)
    except OSError as exc:
        raise StoreError(
            f"{journal.path}: not saved: {exc.strerror or exc}; nothing was changed"
        ) from None


def _utc_now_iso(wall: float) -> str:
    return dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(timespec="seconds")


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
        cipher: SessionCipher | None = None,
    ) -> None:
        self.path = path
        self.clock = clock
        self.read_only = read_only
        self.checkpoint_every = checkpoint_every
        self.cipher = check_cipher(path, cipher, self.what)
        """The key of an encrypted unit (``roundtable.store.crypto``): the journal, the view
        and the summary's title are sealed with it."""
        self.journal = Journal(path / "journal.jsonl", self.cipher)
        self.view_path = path / "view.json"
        self._docs: dict[tuple[str, str], Any] = {}
        """Every record's merged document, in the view's order; an entry of a view with an
        index is its row of the index (a list, ``checkpoint.ENTRY_ROW``) until it is first
        needed (``docs`` reads them all)."""
        self._unread = 0
        self._view: view_file.ViewText | None = None
        self._entry_count = 0
        """How many entries ``_docs`` holds (unread or not)."""
        self._objects: dict[tuple[str, str], Record] = {}
        # each record's JSON as last written to the view: a checkpoint re-encodes only the
        # records changed since (encoding 5,000 records costs ~100 ms, joining them ~2 ms)
        self._encoded: dict[tuple[str, str], tuple[bytes, list[Any]]] = {}
        """... with its row of the view's index (``checkpoint.encode_view``)."""
        self.lock = UnitLock(path, self.what)
        self.notices: list[str] = notices if notices is not None else []
        """One-line messages for the user (the store was brought forward, a checkpoint could not
        be written); the LocalStore's list, shared by its units."""
        self._changes_since_checkpoint = 0
        self._history_loaded = False
        self.history = History()  # complete once ``_history_loaded``
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
            private_dirs(path)
            # make the new directory's entry durable, or power loss could drop the whole unit
            flush_dir(path.parent)
            if not base_existed:
                flush_dir(path.parent.parent)
        if not read_only:
            self.lock.acquire()
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

    def _release_lock(self) -> None:
        self.lock.release()

    # -- open ------------------------------------------------------------------------------

    def _load(self) -> None:
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
        self._max_hlc: str | None = ""
        """The latest timestamp of any op applied to these records (None: not known, computed
        from the records); the view keeps it, so an open need not read every record's heads."""
        if self.view_path.exists():
            try:
                view = view_file.read_view_text(self.view_path, self.cipher)
                meta = view.meta
                schema = meta.get("schema", STORE_SCHEMA)
                if not isinstance(schema, int) or schema > view_file.VIEW_SCHEMA:
                    raise StoreError(
                        f"{self.view_path}: written by a newer roundtable (store schema "
                        f"{schema}, this version reads up to {view_file.VIEW_SCHEMA}); upgrade "
                        "roundtable"
                    )
                docs = self._docs
                for doc in view.records:
                    # the common case checked inline (5,000 calls cost ~3 ms of an open);
                    # anything else gets the check that names what is wrong
                    if not (
                        type(doc) is dict
                        and _DOC_KEYS <= doc.keys()
                        and doc["kind"] in RECORD_TYPES
                    ):
                        self._check_doc(doc)
                    docs[(doc["kind"], doc["id"])] = doc
                rows = view.entry_rows
                # (C iterators: 5,000 entries in ~1 ms, a comprehension took 1.7 ms)
                keys = zip(repeat("entry"), map(itemgetter(0), rows), strict=False)
                docs.update(zip(keys, rows, strict=True))
                self._unread = len(rows)
                self._view = view if rows else None
                self._entry_count = len(rows) + sum(1 for d in view.records if d["kind"] == "entry")
                offset = int(meta.get("journal_offset", 0))
                latest = meta.get("latest_hlc")
                self._max_hlc = latest if isinstance(latest, str) and schema >= 3 else None
                if schema < view_file.VIEW_SCHEMA and not self.read_only:
                    # an older view: the next checkpoint (when idle, or on close) writes it in
                    # this version's format
                    self._changes_since_checkpoint += 1
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
                aside = recovery.move_aside(self.view_path)
                problems.append(f"{self.view_path.name}: {exc.reason}; moved aside to {aside.name}")
                self._forget_docs()
                offset = 0
                self._meta_pending = 0
            except (KeyError, TypeError, ValueError) as exc:
                self._refuse_if_read_only(f"{self.view_path.name}: wrong shape ({exc})")
                aside = recovery.move_aside(self.view_path)
                problems.append(
                    f"{self.view_path.name}: wrong shape ({exc}); moved aside to {aside.name}"
                )
                self._forget_docs()
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
                    # the history is read later (``load_history_step``, ``ensure_history``)
                    for _, line in self.journal.read(offset):
                        if not self.read_only:
                            check_line(line)  # as the eager open does for these lines
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

    def _latest_hlc_text(self) -> str:
        latest = self._latest_hlc()
        return latest.encode() if latest is not None else ""

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
        good = recovery.good_lines(self.journal.path, self.cipher)
        self.journal.close()
        aside = recovery.rewrite_journal(self.journal.path, good, self.cipher)
        if not keep_view:
            self._forget_docs()
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
                    self._apply_ops(line_ops(line))
            except (KeyError, TypeError, AttributeError) as exc:
                raise CorruptFileError(
                    self.journal.path,
                    f"line {line_no} has the wrong shape (missing or bad {exc})",
                ) from None
        self._history_loaded = True
        self._meta_pending = self.history.pending
        self._pending_delta = 0

    def ensure_history(self) -> None:
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
        ``ensure_history`` first.  ``_note_history`` counts, so a line is noted exactly once:
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
            self._meta_pending = self.history.pending
            self._pending_delta = 0

    def _end_history_steps(self) -> None:
        steps, self._history_steps = self._history_steps, None
        close = getattr(steps, "close", None)
        if close is not None:
            close()  # let go of the journal's bytes

    def _forget_history(self) -> None:
        """Drop a partial history load (nothing but the loader has noted anything yet)."""
        self._end_history_steps()
        self.history.clear()

    def _check_version(self, line: Mapping[str, Any]) -> None:
        version = line.get("v", JOURNAL_VERSION)
        if not isinstance(version, int) or version > JOURNAL_VERSION:
            raise StoreError(
                f"{self.journal.path}: written by a newer roundtable (journal version "
                f"{version}, this version reads {JOURNAL_VERSION}); upgrade roundtable"
            )

    def _note_history(self, line: Mapping[str, Any]) -> None:
        self._check_version(line)
        self.history.note(line)

    def _replay_line(self, line: Mapping[str, Any], *, count_pending: bool) -> None:
        self._check_version(line)
        ops = line_ops(line)
        self._apply_ops(ops)
        if count_pending:
            if line.get("t") == "change":
                self._pending_delta += len(ops)
            elif line.get("t") == "ack":
                self._pending_delta -= len(line.get("op_ids", ()))

    def _apply_ops(self, ops: Iterable[Op]) -> None:
        for op in ops:
            key = (op.kind, op.record_id)
            doc = self._docs.get(key)
            if doc is None:
                doc = self._docs[key] = protocol.new_record_doc(op)
                self._entry_count += op.kind == "entry"
            else:
                if type(doc) is list:
                    doc = self._read(key, doc)
                if type(doc["heads"]) is str:
                    self._unpack(doc)
            if self._max_hlc is not None and op.hlc > self._max_hlc:
                self._max_hlc = op.hlc
            if protocol.apply_op(doc, op):
                self._objects.pop(key, None)
                self._encoded.pop(key, None)

    def _latest_hlc(self) -> Hlc | None:
        """The latest timestamp in this unit's records: the clock moves past it before it
        issues its next one (a wall clock set back must not reorder our writes)."""
        latest = self._max_hlc
        if latest is None:  # a view that did not keep it (schema 2): every record's heads
            latest = ""
            for doc in self.docs.values():
                for heads in self._unpack(doc)["heads"].values():
                    if heads and heads[0][1] > latest:
                        latest = heads[0][1]
            self._max_hlc = latest
        return Hlc.parse(latest) if latest else None

    def _unpack(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            return view_file.unpack(doc, self.view_path)
        except CorruptFileError as exc:
            raise CorruptStoreError(
                f"{exc}; move {self.view_path.name} aside and open the session again: the "
                "journal rebuilds it"
            ) from None

    def doc(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The merged document of one record, with its heads (``checkpoint.unpack``)."""
        doc = self._doc((kind, record_id))
        return None if doc is None else self._unpack(doc)

    def conflict_free(self, kind: str, record_id: str) -> bool:
        """True when the record is known to have no conflict without reading its heads (it
        is still as the view packed it); False means: look (``protocol.conflicts``)."""
        doc = self._docs.get((kind, record_id))
        if type(doc) is list:
            return bool(doc[3])
        return doc is None or view_file.is_packed(doc)

    # -- the view's records, read when first needed -------------------------------------------

    @property
    def docs(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every record's merged document (heads may still be packed: ``doc`` unpacks)."""
        if self._unread:
            self.read_records(None)
        return self._docs

    @property
    def unread_records(self) -> int:
        """How many records of the view are not read yet (``read_records``)."""
        return self._unread

    def _doc(self, key: tuple[str, str]) -> dict[str, Any] | None:
        doc = self._docs.get(key)
        if type(doc) is list:
            return self._read(key, doc)
        return doc

    def _read(self, key: tuple[str, str], row: list[Any]) -> dict[str, Any]:
        view = self._view
        assert view is not None
        try:
            doc, text = view.record(row)
            if not (_DOC_KEYS <= doc.keys() and (doc["kind"], doc["id"]) == key):
                raise CorruptFileError(
                    self.view_path, f"record {key[1]!r} is not what its index says"
                )
        except CorruptFileError as exc:
            raise CorruptStoreError(
                f"{exc}; move {self.view_path.name} aside and open the session again: the "
                "journal rebuilds it"
            ) from None
        self._docs[key] = doc
        self._encoded[key] = (text, row[3:])
        self._unread -= 1
        if not self._unread:
            self._view = None  # let go of the file's text
        return doc

    def read_records(self, max_records: int | None = 500) -> bool:
        """Read the next ``max_records`` records the view left unread (all when None); True
        once none is left.  The app calls it between frames, after the history."""
        if not self._unread or self.closed:
            return True
        count = 0
        for key, doc in list(self._docs.items()):
            if type(doc) is list:
                self._read(key, doc)
                count += 1
                if max_records is not None and count >= max_records:
                    break
        return not self._unread

    def _forget_docs(self) -> None:
        self._docs.clear()
        self._unread = 0
        self._entry_count = 0
        self._view = None

    def entry_overview(
        self, agenda_item: str | None, entry_kind: str | None, limit: int
    ) -> tuple[dict[str, int], int, list[str]]:
        """In one pass over the index (the run screen's first frame): the entries shown per
        agenda item id; how many are shown of ``agenda_item`` and ``entry_kind`` (any when
        None); and the ids of the latest ``limit`` of those by ``(created_at, id)``."""
        view = self._view
        if view is not None and self._unread == len(view.entry_rows) == self._entry_count:
            # every entry is still its row of the index, which is in (created_at, id) order
            shown = [row for row in view.entry_rows if row[7]]
            counts = dict(Counter(map(itemgetter(5), shown)))
            if agenda_item is not None or entry_kind is not None:
                shown = [
                    row
                    for row in shown
                    if (agenda_item is None or row[5] == agenda_item)
                    and (entry_kind is None or row[6] == entry_kind)
                ]
            return counts, len(shown), [row[0] for row in shown[-limit:]] if limit > 0 else []
        counts = {}
        keys = []
        for rid, created, item, of_kind, is_shown in self.entry_keys():
            if not is_shown:
                continue
            counts[item] = counts.get(item, 0) + 1
            if (agenda_item is None or item == agenda_item) and (
                entry_kind is None or of_kind == entry_kind
            ):
                keys.append((created, rid))
        keys.sort()  # the view's index is in this order already: a sort of a sorted list
        latest = keys[-limit:] if limit > 0 else []
        return counts, len(keys), [rid for _created, rid in latest]

    def entry_counts(self) -> dict[str, int]:
        """Entries shown per agenda item id (the run screen's agenda), from the index."""
        return self.entry_overview(None, None, 0)[0]

    def latest_entry_ids(
        self, agenda_item: str | None, entry_kind: str | None, limit: int
    ) -> tuple[int, list[str]]:
        """How many entries are shown (of ``agenda_item``, of ``entry_kind``: any when None),
        and the ids of the latest ``limit`` of them by ``(created_at, id)``."""
        _counts, total, ids = self.entry_overview(agenda_item, entry_kind, limit)
        return total, ids

    def entry_keys(self) -> Iterator[tuple[str, str, str, str, bool]]:
        """``(id, created_at, agenda_item, entry_kind, shown)`` of every entry (deleted ones
        too), without reading the entries the view has not parsed: what lists sort, filter and
        count by."""
        no_item = default_of("entry", "agenda_item")
        default_kind = default_of("entry", "entry_kind")
        for (kind, rid), doc in self._docs.items():
            if kind != "entry":
                continue
            if type(doc) is list:
                yield rid, doc[4], doc[5], doc[6], doc[7]
            else:
                yield rid, *_entry_light(doc, no_item, default_kind)

    # -- reads -----------------------------------------------------------------------------

    def get(self, kind: str, record_id: str) -> Record | None:
        key = (kind, record_id)
        obj = self._objects.get(key)
        if obj is None:
            doc = self._doc(key)
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
        for k, rid in [key for key in self._docs if key[0] == kind]:
            obj = self.get(k, rid)  # reads the record when the view left it unread
            if obj is not None and (include_deleted or shown(k, self._docs.get((k, rid)))):
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
        self.ensure_history()
        ops: list[Op] = []
        before: list[list[Any]] = []
        for kind, record_id, fields in changes:
            doc = self.doc(kind, record_id)
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
                    before.append([kind, record_id, field, default_of(kind, field), True])
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
                        base=(
                            protocol.delete_base(doc)
                            if field == "deleted" and value is True
                            else protocol.field_base(doc, field)
                        ),
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
        append_line(self.journal, line)

    def _tick(self) -> None:
        self._changes_since_checkpoint += 1
        if self._changes_since_checkpoint >= self.checkpoint_every:
            self.checkpoint()

    def undo(self, *, event_id: str, session_id: str) -> str | None:
        self.ensure_history()
        plan = self.history.undo_plan()
        if plan is None:
            return None
        change, writes = plan
        self.write(
            f"undo {change['label']}",
            writes,
            event_id=event_id,
            session_id=session_id,
            undo_of=change["change_id"],
        )
        return str(change["label"])

    # -- outbox ----------------------------------------------------------------------------

    def pending_count(self) -> int:
        if self._history_loaded:
            return self.history.pending
        return max(self._meta_pending + self._pending_delta, 0)

    def outbox(
        self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()
    ) -> list[Op]:
        """The local ops not acknowledged (nor in ``skip``), oldest first."""
        self.ensure_history()
        return self.history.outbox(limit, skip)

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        self.ensure_history()
        new = self.history.unacked(op_ids)
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
        self.ensure_history()
        fresh = [o for o in ops if o.op_id not in self.history.known_ops]
        fresh = list({o.op_id: o for o in fresh}.values())
        if not fresh:
            return 0
        raw_ops = [o.to_dict() for o in fresh]
        line = {"v": JOURNAL_VERSION, "t": "remote", "ops": raw_ops}
        self._append(line)
        self._apply_ops(fresh)
        self.history.note_remote(raw_ops)
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
        meta: dict[str, Any] = {
            "schema": view_file.VIEW_SCHEMA,
            "latest_hlc": self._latest_hlc_text(),
            "journal_offset": self.journal.size,
            "pending": self.pending_count(),
            "written": _utc_now_iso(time.time()),
        }
        encoded = self._encoded
        view = self._view
        no_item = default_of("entry", "agenda_item")
        default_kind = default_of("entry", "entry_kind")
        records = []
        for (kind, rid), doc in self._docs.items():
            if type(doc) is list:
                assert view is not None
                text = view.data[doc[1] : doc[2]]
                tail = doc[3:]
            else:
                cached = encoded.get((kind, rid))
                if cached is None:
                    written = view_file.pack(doc)
                    tail = [written is not doc]
                    if kind == "entry":
                        tail += _entry_light(doc, no_item, default_kind)
                    cached = encoded[(kind, rid)] = (_dumps(written).encode("utf-8"), tail)
                text, tail = cached
            records.append((kind, rid, text, tail))
        # the same kind of document tinydb's own write would produce: {table: {doc_id: doc}}
        payload = view_file.encode_view(meta, records)
        try:
            view_file.write_view(self.view_path, payload, self.cipher)
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
        session = self.get("session", self.path.name)
        if not isinstance(session, Session):
            return
        entries = sum(1 for *_rest, is_shown in self.entry_keys() if is_shown)
        write_summary(self.path, self.view_path, session, entries, dict(meta), self.cipher)

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


def check_cipher(path: Path, cipher: SessionCipher | None, what: str) -> SessionCipher | None:
    """The cipher a unit needs: refused (before its lock or any file but ``crypto.json`` is
    touched) when it is encrypted and none was given, or when its key file is gone but its
    journal is sealed (recovery would otherwise take the sealed lines for damage)."""
    if crypto.is_encrypted(path):
        if cipher is None:
            raise crypto.EncryptedSessionError(
                f"{what} is encrypted: its passphrase is needed (asked when it is opened, or "
                "ROUNDTABLE_PASSPHRASE)"
            )
        return cipher
    if cipher is not None:
        raise StoreError(f"{path}: not an encrypted unit ({crypto.CRYPTO_NAME} missing)")
    if crypto.first_line_sealed(path / "journal.jsonl"):
        raise StoreError(
            f"{path / crypto.CRYPTO_NAME}: missing, but the journal is encrypted; restore the "
            "file (nothing was changed)"
        )
    return None


def _entry_light(
    doc: Mapping[str, Any], no_item: Any, default_kind: Any
) -> tuple[str, Any, Any, bool]:
    """What the entry lists sort, filter and count an entry by (``Unit.entry_keys``)."""
    fields = doc["fields"]
    is_shown = not fields.get("deleted", False) or shown("entry", doc)
    return (
        fields.get("created_at", ""),
        fields.get("agenda_item", no_item),
        fields.get("entry_kind", default_kind),
        is_shown,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class NeedsFullOpen(Exception):
    """The journal cannot be used on its own (damaged, or of another schema): open the unit,
    which recovers or brings it forward and says so."""


class JournalHandle:
    """A unit's journal and history *without its view*, under the unit's lock: enough to hand
    out its outbox, journal acknowledgements and tell which pulled ops it already has, without
    parsing the view (~50 ms of one uninterruptible ``json.loads`` at 2,000 entries) or writing
    a checkpoint at close.  The ack lines it appends lie past the view's offset: the next open
    replays them (``read_summary`` and ``read_pending`` account for them)."""

    def __init__(self, path: Path, cipher: SessionCipher | None = None) -> None:
        self.path = path
        noun = "event" if path.parent.name == "events" else "session"
        self.lock = UnitLock(path, f"{noun} {path.name}")
        self.history = OutboxHistory(self._read_lines)
        if not path.is_dir():
            raise NeedsFullOpen(f"{path}: no such unit")
        cipher = check_cipher(path, cipher, f"{noun} {path.name}")
        self.journal = Journal(path / "journal.jsonl", cipher)
        if migrate.first_line_version(self.journal.path) not in (None, STORE_SCHEMA):
            raise NeedsFullOpen(f"{self.journal.path}: another store schema")
        self.lock.acquire()
        try:
            start = 0
            for end, line in self.journal.read(0):
                version = line.get("v", JOURNAL_VERSION)
                if not isinstance(version, int) or version > JOURNAL_VERSION:
                    raise NeedsFullOpen(f"{self.journal.path}: a line of a newer version")
                self.history.note(line, at=start)
                start = end
        except (CorruptFileError, KeyError, TypeError, AttributeError) as exc:
            self.lock.release()
            raise NeedsFullOpen(str(exc)) from None
        except BaseException:
            self.lock.release()
            raise

    def outbox(
        self, limit: int | None = None, skip: frozenset[str] | set[str] = frozenset()
    ) -> list[Op]:
        return self.history.outbox(limit, skip)

    def _read_lines(self, offsets: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The journal lines that start at these offsets (the history keeps where a pending
        op's line is, not the op: ``OutboxHistory``).  The lock is held: the journal only grows
        past them."""
        out: dict[int, dict[str, Any]] = {}
        try:
            with self.journal.path.open("rb") as f:
                for at in offsets:
                    f.seek(at)
                    out[at] = decode_line(f.readline().rstrip(b"\n"), self.journal.cipher)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise CorruptFileError(self.journal.path, f"cannot read a line again: {exc}") from None
        return out

    def mark_acked(self, op_ids: Iterable[str]) -> int:
        new = self.history.unacked(op_ids)
        if not new:
            return 0
        line = {"v": JOURNAL_VERSION, "t": "ack", "op_ids": new}
        append_line(self.journal, line)
        self.history.note(line)
        return len(new)

    def close(self) -> None:
        self.journal.close()
        self.lock.release()
