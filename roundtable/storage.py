"""A crash-safe tinydb Storage for the view checkpoints.

The data lives in memory between checkpoints; ``flush()`` writes the whole document to a temp
file, fsyncs it, renames it over the old one and fsyncs the directory, so a crash leaves either
the old checkpoint or the new one, never a torn file (stock JSONStorage rewrites in place and
was measured to leave corrupt files under kill -9).  A file that does not parse is never
overwritten: ``read()`` raises CorruptFileError and the caller moves it aside.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage


class CorruptFileError(Exception):
    """A file that does not parse; the store turns it into a CorruptStoreError."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


class CheckpointStorage(Storage):
    """tinydb storage: reads the file once, keeps the data in memory, writes on flush()."""

    def __init__(self, path: str | os.PathLike[str], create: bool = True) -> None:
        self.path = Path(path)
        self._data: dict[str, Any] | None = None
        self.dirty = False

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
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise CorruptFileError(self.path, "not a tinydb document (expected tables of records)")
        return data

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            self._data = self.load()
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        self._data = data
        self.dirty = True

    def flush(self) -> None:
        if self._data is None:
            return
        payload = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
        atomic_write_bytes(self.path, payload.encode("utf-8"))
        self.dirty = False

    def write_encoded(self, payload: str) -> None:
        """Write an already-encoded tinydb document now (the store keeps each record's JSON,
        so a checkpoint re-encodes only what changed)."""
        atomic_write_bytes(self.path, payload.encode("utf-8"))
        self._data = None  # read() parses the file again if asked
        self.dirty = False

    def close(self) -> None:
        """Closing does not write: the store decides when a checkpoint is due."""
