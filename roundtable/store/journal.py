"""The per-unit write-ahead journal: one JSON object per line, appended and fsynced.

When ``append`` returns, the line is on disk: that is the moment a capture is acknowledged.
A crash mid-append can leave a torn last line (no newline, not JSON, or a checksum that does not
match); it is ignored on replay and cut off before the next append.  A bad line anywhere before
the last one is corruption, named by its line number.

Line format (store schema 2): ``<compact JSON>\t<CRC-32 of the JSON, 8 hex digits>\n``.  Compact
JSON never contains a raw tab, so the last tab of a line separates the two.  Schema-1 lines (no
checksum) are read when the line says ``"v": 1``; ``roundtable.store.migrate`` rewrites them.

An encrypted session's journal (``Journal(path, cipher)``) seals each line's JSON on its own
(``roundtable.store.crypto``): the line is then ``{"v":2,"x":"<base64>"}\t<CRC-32>\n``, still
one line with its checksum, so a torn last line is told and cut exactly as in a plain journal.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable.model import STORE_SCHEMA
from roundtable.osfiles import PRIVATE_FILE, flush_dir, flush_file, private_dirs
from roundtable.store.crypto import is_sealed
from roundtable.store.errors import CorruptFileError

if TYPE_CHECKING:
    from roundtable.store.crypto import SessionCipher

JOURNAL_VERSION = STORE_SCHEMA


def encode_line(line: dict[str, Any], cipher: SessionCipher | None = None) -> bytes:
    """One journal line, checksum and newline included (sealed first with a ``cipher``)."""
    body = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode()
    if cipher is not None:
        body = cipher.seal_line(body, int(line.get("v", JOURNAL_VERSION)))
    return b"%s\t%08x\n" % (body, zlib.crc32(body))


def decode_line(raw: bytes, cipher: SessionCipher | None = None) -> dict[str, Any]:
    """The object of one line (without its newline); ValueError says what is wrong.  A sealed
    line is opened with ``cipher`` (without one it is an error: the unit asks for the key)."""
    body, tab, crc = raw.rpartition(b"\t")
    if tab:
        if len(crc) != 8 or crc.strip(b"0123456789abcdef") or int(crc, 16) != zlib.crc32(body):
            raise ValueError("its checksum does not match its content")
        line = json.loads(body)
        if not isinstance(line, dict):
            raise ValueError("not an object")
        if is_sealed(line):
            if cipher is None:
                raise ValueError("it is encrypted and no key was given")
            return cipher.open_line(line)
        if cipher is not None:
            raise ValueError("it is not encrypted, in an encrypted session")
        return line
    line = json.loads(raw)
    if not isinstance(line, dict):
        raise ValueError("not an object")
    if line.get("v", 1) != 1:  # only schema-1 lines come without a checksum
        raise ValueError("no checksum")
    return line


def is_legacy(raw: bytes) -> bool:
    """True for a schema-1 line (no checksum), which ``roundtable.store.migrate`` rewrites."""
    return b"\t" not in raw


class Journal:
    """One unit's journal file; the store owns it and is its only writer (under the lock)."""

    def __init__(self, path: Path, cipher: SessionCipher | None = None) -> None:
        self.path = path
        self.cipher = cipher
        self._fd: int | None = None
        self.size = 0  # bytes of complete lines

    def read(self, start: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(end_offset, line)`` for every complete line from ``start``.

        Sets ``self.size`` to the end of the last good line; a torn tail is left for
        ``open_for_append`` to cut.
        """
        if not self.path.exists():
            self.size = 0
            return
        try:
            with self.path.open("rb") as f:
                total = os.fstat(f.fileno()).st_size
                if start > total:
                    raise CorruptFileError(
                        self.path, f"shorter ({total} bytes) than its checkpoint says ({start})"
                    )
                f.seek(start)
                data = f.read()  # only what the checkpoint does not cover
        except OSError as exc:
            raise CorruptFileError(self.path, f"cannot read: {exc.strerror}") from None
        offset = 0
        lines_read = 0
        good_end = start
        while offset < len(data):
            newline = data.find(b"\n", offset)
            if newline == -1:
                break  # torn tail: no newline
            raw = data[offset:newline]
            try:
                line = decode_line(raw, self.cipher)
            except (ValueError, UnicodeDecodeError) as exc:
                if data[newline + 1 :].strip():
                    line_no = self._lines_before(start) + lines_read + 1
                    raise CorruptFileError(
                        self.path, f"line {line_no} is not a journal record ({exc})"
                    ) from None
                break  # a bad very last line: torn
            offset = newline + 1
            good_end = start + offset
            lines_read += 1
            yield good_end, line
        self.size = good_end

    def _lines_before(self, offset: int) -> int:
        """How many lines precede ``offset`` (to name a damaged line by its number)."""
        if offset == 0:
            return 0
        try:
            with self.path.open("rb") as f:
                return f.read(offset).count(b"\n")
        except OSError:
            return 0

    def open_for_append(self) -> None:
        if self._fd is not None:
            return
        created = not self.path.exists()
        private_dirs(self.path.parent)
        fd = os.open(
            self.path,
            os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0),
            PRIVATE_FILE,
        )
        current = os.fstat(fd).st_size
        if current > self.size:
            os.ftruncate(fd, self.size)  # cut a torn tail left by a crash
            flush_file(fd)
        self._fd = fd
        if created:
            flush_dir(self.path.parent)

    def append(self, line: dict[str, Any]) -> int:
        """Write one line and fsync it.  Returns the journal size after it."""
        if self._fd is None:
            self.open_for_append()
        payload = encode_line(line, self.cipher)
        assert self._fd is not None
        try:
            if os.fstat(self._fd).st_size != self.size:
                # a failed append whose cut-back also failed left part of a line: cut it now,
                # or the next line would be glued to it and become a bad middle line
                os.ftruncate(self._fd, self.size)
            written = os.write(self._fd, payload)
            if written != len(payload):
                raise OSError(28, "short write (disk full?)")
            flush_file(self._fd)
        except OSError:
            # leave the file as it was: cut whatever part of the line reached it
            try:
                os.ftruncate(self._fd, self.size)
            except OSError:
                pass
            raise
        self.size += len(payload)
        return self.size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
