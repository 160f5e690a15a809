"""The store's errors: each message is one line naming the file (and the line) concerned."""

from __future__ import annotations

from pathlib import Path

from roundtable.errors import RoundtableError


class StoreError(RoundtableError):
    """A store operation that cannot be done; the message is one line naming the file."""


class CorruptStoreError(StoreError):
    """A file did not parse: it was moved aside and what could be recovered was kept."""


class SessionLockedError(StoreError):
    """Another writer (another process, or this one) holds the session."""


class UnknownSessionError(StoreError):
    """No such session (or an ambiguous id prefix) on this laptop."""


class CorruptFileError(Exception):
    """A file that does not parse (inside the store); the unit turns it into a
    CorruptStoreError after moving the file aside."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
