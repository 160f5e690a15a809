"""Bringing a unit written by an older roundtable forward to the current store schema.

The store's version is ``model.STORE_SCHEMA``; every journal line carries it as ``"v"`` and the
view's meta as ``"schema"``.  Opening a unit for writing looks at its first journal line:

* the current version: nothing to do;
* newer than this roundtable: refused, nothing is touched (``StoreError`` names the file and
  both versions);
* older: the unit's files are first copied into ``backup-schema<N>-<UTC time>/`` inside the unit
  (fsynced), then the journal is rewritten in the current format, atomically (temp file, fsync,
  rename).  The view is left as it was: its schema tells the store to replay the whole journal
  once and write a current view.  A crash at any point leaves either the old journal or the new
  one, and the backup; opening again finishes the job.

Schema history: 1 = plain JSON lines; 2 = each line followed by a tab and the CRC-32 of its JSON
(``roundtable.store.journal``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from roundtable.model import STORE_SCHEMA
from roundtable.osfiles import PRIVATE_DIR, PRIVATE_FILE, atomic_write_bytes, flush_dir, flush_file
from roundtable.store.journal import decode_line, encode_line

BACKUP_PREFIX = "backup-schema"


class NewerStoreError(Exception):  # the unit turns it into a StoreError
    """The unit was written by a newer roundtable."""


def first_line_version(journal: Path) -> int | None:
    """The ``"v"`` of the journal's first line; None when there is no complete readable line
    (an empty or new journal, or one the store's own checks will report)."""
    try:
        with open(journal, "rb") as f:
            raw = f.readline()
    except FileNotFoundError:
        return None
    if not raw.endswith(b"\n"):
        return None
    body = raw[:-1].rpartition(b"\t")[0] or raw[:-1]
    try:
        line = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    version = line.get("v", 1) if isinstance(line, dict) else None
    return version if isinstance(version, int) else None


def check_not_newer(journal: Path) -> None:
    version = first_line_version(journal)
    if version is not None and version > STORE_SCHEMA:
        raise NewerStoreError(
            f"{journal}: written by a newer roundtable (store schema {version}, this version "
            f"reads up to {STORE_SCHEMA}); upgrade roundtable to open it"
        )


def upgrade_unit(unit: Path, journal: Path, view: Path) -> str | None:
    """Bring the unit's journal to the current schema (see the module docstring).  Returns a
    one-line notice for the user, or None when there was nothing to do.  Raises
    ``NewerStoreError``; a journal that does not parse is left alone for the store's recovery
    (which reads schema-1 lines too)."""
    check_not_newer(journal)
    version = first_line_version(journal)
    if version is None or version >= STORE_SCHEMA:
        return None
    data = journal.read_bytes()
    *complete, _torn_tail = data.split(b"\n")  # an unterminated last line was never acknowledged
    try:
        lines = [decode_line(raw) for raw in complete]
    except (ValueError, UnicodeDecodeError):
        return None  # damaged: the store reports it, moves it aside and keeps the good lines
    backup = unit / f"{BACKUP_PREFIX}{version}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}"
    backup.mkdir(mode=PRIVATE_DIR)
    for source in (journal, view):
        if source.exists():
            target = backup / source.name
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(target, flags, PRIVATE_FILE)
            with open(fd, "wb") as out:
                out.write(source.read_bytes())
                out.flush()
                flush_file(out.fileno())
    flush_dir(backup)
    flush_dir(unit)
    atomic_write_bytes(
        journal, b"".join(encode_line({**line, "v": STORE_SCHEMA}) for line in lines)
    )
    return (
        f"{unit}: brought forward from store schema {version} to {STORE_SCHEMA}; the old files "
        f"are kept in {backup.name}/"
    )
