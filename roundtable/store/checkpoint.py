"""The view: a unit's records as a tinydb document, written whole at checkpoints.

The data lives in memory between checkpoints.  A checkpoint writes the whole document to a temp
file, flushes it, renames it over the old one and flushes the directory
(``osfiles.atomic_write_bytes``), so a crash leaves either the old view or the new one, never a
torn file (tinydb's stock JSONStorage rewrites in place and was measured to leave corrupt files
under kill -9).  A file that does not parse is never overwritten: reading it raises
``CorruptFileError`` and the unit moves it aside.

An encrypted session's view is sealed whole (``roundtable.store.crypto``): the file is
``{"v":2,"x":"<base64 nonce+ciphertext>"}``, opened here before tinydb sees the document.

A record's per-field merge history (``heads``) is two thirds of a view's parse, and drawing a
session never needs it: a record with no conflict, neither deleted nor withdrawn, is written with
its heads as one line of text (``pack``), read the first time the record is merged into, written
or looked at for conflicts (``unpack``).  The view's ``meta`` says ``"schema": VIEW_SCHEMA``.

Opening a session should not cost in proportion to its entries either: the view ends with an
``index`` table (where each record's text is in the file; for an entry, also whether it is
packed and what the lists sort, filter and count it by: ``ENTRY_ROW``), and ``meta`` says where
that index starts.  The unit parses the index and the few records that are not entries, and an
entry only when it is first needed (``ViewText.record``); lists are drawn from the index.

This is the only module of roundtable that imports tinydb.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb.storages import Storage

from roundtable.model import STORE_SCHEMA
from roundtable.osfiles import atomic_write_bytes
from roundtable.store.crypto import SealError, is_sealed
from roundtable.store.errors import CorruptFileError

if TYPE_CHECKING:
    from roundtable.store.crypto import SessionCipher

VIEW_SCHEMA = 3
"""The view's format: 2 = every record's heads an object; 3 = a conflict-free record's heads as
one line of text (``pack``) and the ``index`` table (``encode_view``).  A newer view is refused by
the unit (an older roundtable refuses 3)."""

INDEX_AT_WIDTH = 12
_DECODER = json.JSONDecoder()
_LAZY_START = '{"meta":{"1":'
META_BYTES = 4096
"""The view's meta is read from its first bytes (it is a few hundred)."""


ENTRY_ROW = 8
"""An unread entry is its row of the index: ``[id, start, end, packed, created_at,
agenda_item, entry_kind, shown]`` (``start:end``, where its text is in ``ViewText.text``;
``packed``, the writer packed it, so it has no conflict; the rest, what the entry lists sort,
filter and count it by).  A record in memory is a dict, so ``type(doc) is list`` says unread."""


_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values (``1``, ``1.0`` and ``True`` are three different values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return bool(a == b)


def pack(doc: dict[str, Any]) -> dict[str, Any]:
    """The record as the view writes it.  A record whose every field has one version, the
    value it shows, and that is neither deleted nor withdrawn, has its ``heads`` written as
    ``"field hlc field hlc ..."`` (field names and HLCs hold no space): no value twice, nothing
    for the parser to nest.  Any other record is written as it is, so a packed record has no
    conflict of any kind (``protocol.conflicts`` of it is empty)."""
    heads = doc["heads"]
    fields = doc["fields"]
    if type(heads) is str or doc.get("withdrawn") or fields.get("deleted") is True:
        return doc
    words: list[str] = []
    for field, versions in heads.items():
        if (
            len(versions) != 1
            or field not in fields
            or not _FIELD_NAME.fullmatch(field)
            or not _same(versions[0][0], fields[field])
        ):
            return doc
        words += (field, versions[0][1])
    return {**doc, "heads": " ".join(words)}


def unpack(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """The record with its ``heads`` an object again (``{field: [[value, hlc]]}``), in place."""
    heads = doc["heads"]
    if type(heads) is str:
        words = heads.split()
        fields = doc["fields"]
        if len(words) % 2 or not all(f in fields for f in words[::2]):
            raise CorruptFileError(path, f"record {doc.get('id')!r}: its heads do not read")
        pairs = zip(words[::2], words[1::2], strict=True)
        doc["heads"] = {f: [[fields[f], hlc]] for f, hlc in pairs}
    return doc


def is_packed(doc: dict[str, Any]) -> bool:
    """Whether the record's heads are still the view's text (then it has no conflict)."""
    return type(doc["heads"]) is str


class ViewText:
    """A view as read: its meta, the records that are not entries (parsed), and the entries
    as parsed documents (a view without an index) or as their rows of the index."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        data: bytes,
        records: list[Any],
        entry_rows: list[list[Any]],
    ) -> None:
        self.path = path
        self.meta = meta
        self.data = data
        """The file's bytes (decrypted): the index's offsets are offsets in them."""
        self.records = records
        self.entry_rows = entry_rows
        """Sorted by ``(created_at, id)``: the latest entries are at the end."""

    def record(self, row: list[Any]) -> tuple[dict[str, Any], bytes]:
        """Parse one record from its row: its document and its bytes (its encoding in a view)."""
        text = self.data[row[1] : row[2]]
        try:
            doc = json.loads(text)
        except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            raise CorruptFileError(self.path, f"a record does not read ({exc})") from None
        if type(doc) is not dict:
            raise CorruptFileError(self.path, "a record is not where its index says")
        return doc, text


class CheckpointStorage(Storage):
    """tinydb storage that reads the file once and keeps it in memory; it never writes (the
    store writes whole views with :func:`write_view`)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        create: bool = True,
        cipher: SessionCipher | None = None,
    ) -> None:
        self.path = Path(path)
        self.cipher = cipher
        self._data: dict[str, Any] | None = None

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        return self.parse(self.plain_bytes())

    def plain_bytes(self) -> bytes:
        """The view's JSON, opened first when the session is encrypted."""
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CorruptFileError(self.path, f"cannot read: {exc.strerror}") from None
        if not raw.strip():
            raise CorruptFileError(self.path, "empty file")
        if self.cipher is None and raw.startswith(_LAZY_START.encode()):
            return raw
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(self.path, f"not valid JSON ({exc})") from None
        if is_sealed(data) or self.cipher is not None:
            return self._open_sealed(data)
        return raw

    def parse(self, text: bytes) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(self.path, f"not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise CorruptFileError(self.path, "not a tinydb document (expected tables of records)")
        return data

    def _open_sealed(self, envelope: Any) -> Any:
        if self.cipher is None:
            raise CorruptFileError(self.path, "encrypted, and no key was given")
        if not is_sealed(envelope):
            raise CorruptFileError(self.path, "not encrypted, in an encrypted session")
        try:
            return self.cipher.open_view(envelope)
        except SealError as exc:
            raise CorruptFileError(self.path, str(exc)) from None

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            self._data = self.load()
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        raise TypeError("the view is written whole by the store (write_view), not by tinydb")

    def close(self) -> None:
        """Closing does not write: the store decides when a checkpoint is due."""


def read_view_text(path: Path, cipher: SessionCipher | None = None) -> ViewText:
    """The view as ``ViewText``: one with an index (``encode_view``) has only its index and its
    records that are not entries parsed; an older one (or one written by hand) is parsed whole,
    as tinydb reads it.  Raises ``CorruptFileError`` for a file that does not read."""
    storage = CheckpointStorage(path, cipher=cipher)
    data = storage.plain_bytes()
    lazy = _read_indexed(path, data) if data.startswith(_LAZY_START.encode()) else None
    if lazy is not None:
        return lazy
    tables = storage.parse(data)
    meta_rows = list(tables.get("meta", {}).values())
    meta = dict(meta_rows[0]) if meta_rows else {}
    return ViewText(path, meta, b"", list(tables.get("records", {}).values()), [])


def _read_indexed(path: Path, data: bytes) -> ViewText | None:
    """The view through its index, or None when it has none (a schema 2 view).  Only the
    meta, the index and the records that are not entries are decoded: not the whole file."""
    try:
        # the meta is a few hundred bytes of ASCII at the start
        head = data[:META_BYTES].decode("utf-8", "replace")
        meta, _end = _DECODER.raw_decode(head, len(_LAZY_START))
    except ValueError:
        return None  # read whole, as tinydb reads it: that names what is wrong
    at = meta.get("index_at") if type(meta) is dict else None
    if not isinstance(at, str):
        return None
    try:
        if not data.endswith(b"}}"):
            raise ValueError("the file does not end after the index")
        index = json.loads(data[int(at) : len(data) - 2])
        others, entries = index["others"], index["entries"]
        if type(others) is not list or type(entries) is not list:
            raise ValueError("the index is not where the meta says")
        if entries and set(map(len, entries)) != {ENTRY_ROW}:
            raise ValueError("an entry's row is not of 8 values")
        view = ViewText(path, meta, data, [], entries)
        for _kind, rid, start, stop in others:
            view.records.append(view.record([rid, start, stop])[0])
    except (ValueError, TypeError, KeyError) as exc:
        raise CorruptFileError(path, f"its index does not read ({exc})") from None
    return view


def encode_view(meta: dict[str, Any], records: list[tuple[str, str, bytes, list[Any]]]) -> bytes:
    """The view document: ``{"meta": {"1": meta}, "records": {"1": record, ...}, "index":
    {"1": {"others": [...], "entries": [...]}}}`` (a tinydb document: tables of records).
    ``records`` are ``(kind, id, UTF-8 text, tail)``, the tail ``[packed, created_at,
    agenda_item, entry_kind, shown]`` for an entry (``ENTRY_ROW``).  Offsets are in bytes;
    ``meta["index_at"]`` is where the index's value starts, a fixed-width number so that writing
    it moves nothing."""
    placeholder = "0" * INDEX_AT_WIDTH
    head = (_LAZY_START + _dumps({**meta, "index_at": placeholder}) + '},"records":{').encode(
        "utf-8"
    )
    parts = [head]
    others: list[list[Any]] = []
    entries: list[list[Any]] = []
    pos = len(head)
    for n, (kind, rid, text, tail) in enumerate(records, start=1):
        key = (f'"{n}":' if n == 1 else f',"{n}":').encode()
        start = pos + len(key)
        parts.append(key)
        parts.append(text)
        pos = start + len(text)
        if kind == "entry":
            entries.append([rid, start, pos, *tail])
        else:
            others.append([kind, rid, start, pos])
    entries.sort(key=lambda row: (row[4], row[0]))
    middle = b'},"index":{"1":'
    index_at = pos + len(middle)
    parts.append(middle)
    parts.append(_dumps({"others": others, "entries": entries}).encode("utf-8"))
    parts.append(b"}}")
    at = str(index_at).rjust(INDEX_AT_WIDTH, "0")
    parts[0] = head.replace(f'"index_at":"{placeholder}"'.encode(), f'"index_at":"{at}"'.encode())
    return b"".join(parts)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_view(path: Path, data: bytes, cipher: SessionCipher | None = None) -> None:
    """Write an already-encoded view document atomically: the unit keeps each record's JSON,
    so a checkpoint re-encodes only what changed.  The payload is the same
    ``{table: {doc_id: doc}}`` document tinydb would write."""
    if cipher is not None:
        data = cipher.seal_view(data, STORE_SCHEMA)
    atomic_write_bytes(path, data)
