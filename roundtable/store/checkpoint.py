"""The view: a unit's records as a tinydb document, written whole at checkpoints.

The data lives in memory between checkpoints.  A checkpoint writes the whole document to a temp
file, flushes it, renames it over the old one and flushes the directory
(``osfiles.atomic_write_bytes``), so a crash leaves either the old view or the new one, never a
torn file (tinydb's stock JSONStorage rewrites in place and was measured to leave corrupt files
under kill -9).  A file that does not parse is never overwritten: reading it raises
``CorruptFileError`` and the unit moves it aside.

An encrypted session's view is sealed whole (``roundtable.store.crypto``): the file is
``{"v":2,"x":"<base64 nonce+ciphertext>"}``, opened here before tinydb sees the document.

This is the only module of roundtable that imports tinydb.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb import TinyDB
from tinydb.storages import Storage

from roundtable.model import STORE_SCHEMA
from roundtable.osfiles import atomic_write_bytes
from roundtable.store.crypto import SealError, is_sealed
from roundtable.store.errors import CorruptFileError

if TYPE_CHECKING:
    from roundtable.store.crypto import SessionCipher


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
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CorruptFileError(self.path, f"cannot read: {exc.strerror}") from None
        if not raw.strip():
            raise CorruptFileError(self.path, "empty file")
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(self.path, f"not valid JSON ({exc})") from None
        if is_sealed(data) or self.cipher is not None:
            data = self._open_sealed(data)
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise CorruptFileError(self.path, "not a tinydb document (expected tables of records)")
        return data

    def _open_sealed(self, envelope: Any) -> Any:
        if self.cipher is None:
            raise CorruptFileError(self.path, "encrypted, and no key was given")
        if not is_sealed(envelope):
            raise CorruptFileError(self.path, "not encrypted, in an encrypted session")
        try:
            return json.loads(self.cipher.open_view(envelope))
        except SealError as exc:
            raise CorruptFileError(self.path, str(exc)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptFileError(self.path, f"not valid JSON once decrypted ({exc})") from None

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            self._data = self.load()
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        raise TypeError("the view is written whole by the store (write_view), not by tinydb")

    def close(self) -> None:
        """Closing does not write: the store decides when a checkpoint is due."""


def read_view(path: Path, cipher: SessionCipher | None = None) -> dict[str, Any]:
    """The view's tables ``{table: {doc_id: doc}}`` as tinydb's storage reads them (its Table
    API would copy each of 5,000 records twice more, ~20 ms of a session's open)."""
    db = TinyDB(path, storage=CheckpointStorage, cipher=cipher)
    return db.storage.read() or {}


def write_view(path: Path, payload: str, cipher: SessionCipher | None = None) -> None:
    """Write an already-encoded view document atomically: the unit keeps each record's JSON,
    so a checkpoint re-encodes only what changed.  The payload is the same
    ``{table: {doc_id: doc}}`` document tinydb would write."""
    data = payload.encode("utf-8")
    if cipher is not None:
        data = cipher.seal_view(data, STORE_SCHEMA)
    atomic_write_bytes(path, data)
