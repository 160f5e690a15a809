"""A unit's files checked without opening the unit: what ``roundtable doctor`` asks the store.

``check_journal`` reads a journal's bytes and checks every line's CRC-32 and JSON shape, as
``Journal.read`` does on replay, but without a key: an encrypted session's line is checked on
its sealed form (the checksum covers the sealed bytes), so a locked session is checked too.
Nothing is written, moved or locked.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

JOURNAL_NAME = "journal.jsonl"


@dataclass(frozen=True)
class JournalHealth:
    """What a journal's bytes say about it."""

    lines: int
    """Complete lines that read well (checked, or schema 1 without a checksum)."""
    damaged_line: int = 0
    """The number of the first line, not the last one, whose checksum or JSON is wrong: the
    journal is damaged there (0 when none is).  Opening the session for writing moves the file
    aside and keeps the lines before it (``roundtable.store.recovery``)."""
    reason: str = ""
    """Why ``damaged_line`` is damaged."""
    torn_tail: bool = False
    """The last line was cut by a crash mid-write: ignored on replay, cut at the next write."""
    unchecked: int = 0
    """Schema-1 lines, which carry no checksum (rewritten with one at the next write)."""
    missing: bool = False
    """No journal file at all (a unit that was never written, or one whose journal was lost)."""


def _line_problem(raw: bytes) -> tuple[str | None, bool]:
    """(why the line is bad or None, whether it is a schema-1 line without a checksum)."""
    body, tab, crc = raw.rpartition(b"\t")
    if not tab:
        try:
            line = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return "not JSON and no checksum", False
        if not isinstance(line, dict) or line.get("v", 1) != 1:
            return "no checksum", False
        return None, True
    if len(crc) != 8 or crc.strip(b"0123456789abcdef"):
        return "its checksum is not 8 hex digits", False
    if int(crc, 16) != zlib.crc32(body):
        return "its checksum does not match its content", False
    try:
        line = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "not JSON", False
    if not isinstance(line, dict):
        return "not an object", False
    return None, False


def check_journal(unit: Path) -> JournalHealth:
    """Check the journal of the unit directory ``unit`` line by line (see the module
    docstring); OSError when the file cannot be read."""
    path = unit / JOURNAL_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return JournalHealth(lines=0, missing=True)
    good = unchecked = 0
    offset = 0
    number = 0
    while offset < len(data):
        newline = data.find(b"\n", offset)
        if newline == -1:
            return JournalHealth(good, torn_tail=True, unchecked=unchecked)
        number += 1
        problem, legacy = _line_problem(data[offset:newline])
        offset = newline + 1
        if problem is not None:
            if data[offset:].strip():
                return JournalHealth(good, number, problem, unchecked=unchecked)
            return JournalHealth(good, torn_tail=True, unchecked=unchecked)
        good += 1
        unchecked += legacy
    return JournalHealth(good, unchecked=unchecked)
