"""The sessions list's cache: ``summary.json`` beside each session's view.

Each checkpoint of a session writes its line of the sessions list (title, region, status, date,
entry and pending counts) with the journal offset and the view's size and mtime it was taken
with.  It is a cache: ``read_summary`` takes it only while the journal and the view are exactly
as they were when it was written, so a stale or lost summary costs only time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roundtable.model import STORE_SCHEMA, Session
from roundtable.osfiles import atomic_write_bytes
from roundtable.store.errors import CorruptFileError
from roundtable.store.journal import Journal

SUMMARY_NAME = "summary.json"
SUMMARY_FIELDS = ("event_id", "region", "title", "status", "date")


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


def read_summary(path: Path, session_id: str) -> SessionSummary | None:
    """The sessions-list line a session's last checkpoint left (``write_summary``), if it still
    describes the session: same store schema, the view the very file it was taken from, and
    the journal exactly as long as the view covers or grown only by acknowledgements (sync
    journals those without a checkpoint; they change the pending count, no record).  None
    otherwise; the caller reads the view.  The event's name is filled in by the caller."""
    try:
        data = json.loads((path / SUMMARY_NAME).read_bytes())
        view = (path / "view.json").stat()
        if data["schema"] != STORE_SCHEMA or data["view"] != [view.st_size, view.st_mtime_ns]:
            return None
        acked = _acked_since(path, data["journal_offset"])
        if acked is None:
            return None
        fields = data["session"]
        values = [fields[k] for k in SUMMARY_FIELDS]
        if not all(isinstance(v, str) for v in values):
            return None
        entries, pending = data["entries"], data["pending"]
        if not (isinstance(entries, int) and isinstance(pending, int)):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    event_id, region, title, status, date = values
    pending = max(pending - acked, 0)
    return SessionSummary(session_id, event_id, "", region, title, status, date, entries, pending)


def _acked_since(path: Path, offset: object) -> int | None:
    """How many ops the journal past ``offset`` acknowledges, if that is all it holds (0 for
    no tail); None when it holds anything else or cannot be read."""
    if not isinstance(offset, int):
        return None
    journal = path / "journal.jsonl"
    try:
        size = journal.stat().st_size if journal.exists() else 0
        if size == offset:
            return 0
        acked = 0
        for _end, line in Journal(journal).read(offset):
            if line.get("t") != "ack":
                return None
            acked += len(line.get("op_ids", ()))
    except (OSError, CorruptFileError, TypeError, AttributeError):
        return None
    return acked


def read_summary_event(path: Path) -> str | None:
    """The event of a session as its summary names it (it never changes), or None."""
    try:
        event_id = json.loads((path / SUMMARY_NAME).read_bytes())["session"]["event_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return event_id if isinstance(event_id, str) and event_id else None


def read_pending(path: Path) -> int | None:
    """A session's pending count without opening it: the count its last checkpoint wrote in
    the summary, plus the ops journaled and minus those acknowledged since (only the journal
    past the checkpoint is read).  None when there is no summary of the current view (the
    caller opens the unit)."""
    try:
        data = json.loads((path / SUMMARY_NAME).read_bytes())
        view = (path / "view.json").stat()
        offset, pending = data["journal_offset"], data["pending"]
        if (
            data["schema"] != STORE_SCHEMA
            or data["view"] != [view.st_size, view.st_mtime_ns]
            or not isinstance(offset, int)
            or not isinstance(pending, int)
        ):
            return None
        journal = path / "journal.jsonl"
        if (journal.stat().st_size if journal.exists() else 0) != offset:
            for _end, line in Journal(journal).read(offset):
                if line.get("t") == "change":
                    pending += len(line.get("ops", ()))
                elif line.get("t") == "ack":
                    pending -= len(line.get("op_ids", ()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, CorruptFileError):
        return None  # damaged or unreadable: the unit's own open says how
    return max(pending, 0)


def write_summary(
    path: Path, view_path: Path, session: Session, entries: int, meta: dict[str, Any]
) -> None:
    """Write the session's line of the sessions list beside the view just written.  A failure
    loses nothing (it is a cache) and is not reported."""
    try:
        view = view_path.stat()
        summary = {
            "schema": STORE_SCHEMA,
            "journal_offset": meta["journal_offset"],
            "view": [view.st_size, view.st_mtime_ns],
            "session": {k: getattr(session, k) for k in SUMMARY_FIELDS},
            "entries": entries,
            "pending": meta["pending"],
        }
        payload = json.dumps(summary, ensure_ascii=False, separators=(",", ":"))
        atomic_write_bytes(path / SUMMARY_NAME, payload.encode("utf-8"))
    except OSError:
        pass
