"""Damaged files: never overwritten, moved aside, and the good part kept.

A file that does not parse is renamed ``<name>.corrupt-<UTC time>`` beside itself.  For a
journal, every line before the first bad one is kept: they are written back (atomically, in the
current format) as the new journal, and the unit replays them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable.osfiles import atomic_write_bytes, replace_file
from roundtable.store.history import check_line, line_ops
from roundtable.store.journal import JOURNAL_VERSION, decode_line, encode_line

if TYPE_CHECKING:
    from roundtable.store.crypto import SessionCipher


def stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def move_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.corrupt-{stamp()}")
    replace_file(path, target)
    return target


def good_lines(journal: Path, cipher: SessionCipher | None = None) -> list[dict[str, Any]]:
    """The journal's lines before the first one that does not decode or has the wrong shape."""
    good: list[dict[str, Any]] = []
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        data = b""
    for raw in data.split(b"\n"):
        try:
            line = decode_line(raw, cipher)
            check_line(line)
            line_ops(line)  # its ops must have the shape we write
        except (ValueError, UnicodeDecodeError, KeyError, TypeError):
            break
        good.append(line)
    return good


def rewrite_journal(
    journal: Path, good: list[dict[str, Any]], cipher: SessionCipher | None = None
) -> Path | None:
    """Move the damaged journal aside (if it exists) and write ``good`` as the journal.
    Returns where the damaged file went."""
    aside = move_aside(journal) if journal.exists() else None
    payload = b"".join(encode_line({**line, "v": JOURNAL_VERSION}, cipher) for line in good)
    atomic_write_bytes(journal, payload)
    return aside
