"""The sessions list's cache: ``summary.json`` beside each session's view.

Each checkpoint of a session writes its line of the sessions list (title, region, status, date,
entry and pending counts) with the journal offset and the view's size and mtime it was taken
with.  It is a cache: ``read_summary`` takes it only while the journal and the view are exactly
as they were when it was written, so a stale or lost summary costs only time.

An encrypted session's summary says so (``"encrypted": true``) and holds its title sealed: the
list shows ``crypto.LOCKED_TITLE`` until the session is unlocked in this process.  Its ids,
region, status, date and counts stay readable (sync counts pending ops without the key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable.model import STORE_SCHEMA, Session
from roundtable.osfiles import atomic_write_bytes
from roundtable.store.crypto import LOCKED_TITLE, SealError
from roundtable.store.errors import CorruptFileError
from roundtable.store.journal import Journal

if TYPE_CHECKING:
    from roundtable.store.crypto import SessionCipher

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
    encrypted: bool = False
    locked: bool = False
    """Encrypted and not unlocked in this process: the title is ``crypto.LOCKED_TITLE``."""


def read_summary(
    path: Path, session_id: str, cipher: SessionCipher | None = None
) -> SessionSummary | None:
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
        encrypted = data.get("encrypted") is True
        acked = _acked_since(path, data["journal_offset"], cipher, encrypted)
        if acked is None:
            return None
        fields = data["session"]
        values = [fields[k] for k in SUMMARY_FIELDS]
        if not all(isinstance(v, str) for v in values):
            return None
        entries, pending = data["entries"], data["pending"]
        if not (isinstance(entries, int) and isinstance(pending, int)):
            return None
        if encrypted:
            values[2] = _open_title(fields, cipher)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    event_id, region, title, status, date = values
    pending = max(pending - acked, 0)
    locked = encrypted and cipher is None
    return SessionSummary(
        session_id, event_id, "", region, title, status, date, entries, pending, encrypted, locked
    )


def _open_title(fields: dict[str, Any], cipher: SessionCipher | None) -> str:
    if cipher is None:
        return LOCKED_TITLE
    try:
        return cipher.open_text(fields.get("sealed_title"), "summary").decode("utf-8")
    except (SealError, UnicodeDecodeError):
        raise ValueError("sealed title") from None


def read_locked_summary(path: Path, session_id: str) -> SessionSummary:
    """An encrypted session's line of the list without its key: what its last summary says
    in the clear (maybe stale: a capture since is sealed), titled ``LOCKED_TITLE``."""
    values = {k: "" for k in SUMMARY_FIELDS}
    entries = pending = 0
    try:
        data = json.loads((path / SUMMARY_NAME).read_bytes())
        for k in SUMMARY_FIELDS:
            value = data["session"].get(k)
            values[k] = value if isinstance(value, str) else ""
        if isinstance(data.get("entries"), int):
            entries = data["entries"]
        if isinstance(data.get("pending"), int):
            pending = data["pending"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return SessionSummary(
        session_id,
        values["event_id"],
        "",
        values["region"],
        LOCKED_TITLE,
        values["status"],
        values["date"],
        entries,
        pending,
        encrypted=True,
        locked=True,
    )


def _acked_since(
    path: Path, offset: object, cipher: SessionCipher | None = None, encrypted: bool = False
) -> int | None:
    """How many ops the journal past ``offset`` acknowledges, if that is all it holds (0 for
    no tail); None when it holds anything else or cannot be read (a sealed tail without the
    key cannot be read)."""
    if not isinstance(offset, int):
        return None
    journal = path / "journal.jsonl"
    try:
        size = journal.stat().st_size if journal.exists() else 0
        if size == offset:
            return 0
        if encrypted and cipher is None:
            return None
        acked = 0
        for _end, line in Journal(journal, cipher).read(offset):
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


def read_pending(path: Path, cipher: SessionCipher | None = None) -> int | None:
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
            if data.get("encrypted") is True and cipher is None:
                return None  # a sealed tail: the caller opens the unit with the key
            for _end, line in Journal(journal, cipher).read(offset):
                if line.get("t") == "change":
                    pending += len(line.get("ops", ()))
                elif line.get("t") == "ack":
                    pending -= len(line.get("op_ids", ()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, CorruptFileError):
        return None  # damaged or unreadable: the unit's own open says how
    return max(pending, 0)


def write_summary(
    path: Path,
    view_path: Path,
    session: Session,
    entries: int,
    meta: dict[str, Any],
    cipher: SessionCipher | None = None,
) -> None:
    """Write the session's line of the sessions list beside the view just written.  A failure
    loses nothing (it is a cache) and is not reported."""
    try:
        view = view_path.stat()
        fields = {k: getattr(session, k) for k in SUMMARY_FIELDS}
        summary: dict[str, Any] = {
            "schema": STORE_SCHEMA,
            "journal_offset": meta["journal_offset"],
            "view": [view.st_size, view.st_mtime_ns],
            "session": fields,
            "entries": entries,
            "pending": meta["pending"],
        }
        if cipher is not None:
            fields["sealed_title"] = cipher.seal_text(session.title.encode(), "summary")
            fields["title"] = ""
            summary["encrypted"] = True
        payload = json.dumps(summary, ensure_ascii=False, separators=(",", ":"))
        atomic_write_bytes(path / SUMMARY_NAME, payload.encode("utf-8"))
    except OSError:
        pass
