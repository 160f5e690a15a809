"""LocalStore: the laptop's records, as a write-ahead journal plus a tinydb checkpoint per unit.

One concern a module (the map is in docs/architecture.md, "Store package"):

* ``errors``: StoreError and its kinds.            * ``lock``: one writer per unit.
* ``journal``: the write-ahead journal file.       * ``checkpoint``: the view (tinydb).
* ``history``: known ops, outbox, undo stack.      * ``recovery``: damaged files moved aside.
* ``summary``: the sessions list's cache.          * ``migrate``: older store schemas.
* ``unit``: one event's or session's directory.    * ``session``: SessionStore.
* ``home``: LocalStore (the home directory).       * ``outbox``: what sync uses.
* ``health``: a unit's files checked without opening it (``roundtable doctor``).

Callers import from here: ``from roundtable.store import LocalStore, StoreError``.
"""

from __future__ import annotations

from roundtable.store.errors import (
    CorruptFileError,
    CorruptStoreError,
    SessionLockedError,
    StoreError,
    UnknownSessionError,
)
from roundtable.store.health import JournalHealth, check_journal
from roundtable.store.home import LocalStore, UnitHold
from roundtable.store.outbox import Outbox
from roundtable.store.session import SessionStore
from roundtable.store.summary import SessionSummary, read_summary
from roundtable.store.unit import CHECKPOINT_EVERY, Unit

__all__ = [
    "CHECKPOINT_EVERY",
    "CorruptFileError",
    "CorruptStoreError",
    "JournalHealth",
    "LocalStore",
    "Outbox",
    "SessionLockedError",
    "SessionStore",
    "SessionSummary",
    "StoreError",
    "Unit",
    "UnitHold",
    "UnknownSessionError",
    "check_journal",
    "read_summary",
]
