"""One writer per unit: the ``lock`` file in the unit's directory, locked while it is open.

The holder writes its pid at the start of the file, so a second writer is refused with "open in
another roundtable (pid N)".  How the lock is taken differs by platform (``roundtable.osfiles``);
the OS drops it when the process ends, however it ends.
"""

from __future__ import annotations

import os
from pathlib import Path

from roundtable import osfiles
from roundtable.store.errors import SessionLockedError, StoreError


class UnitLock:
    def __init__(self, path: Path, what: str) -> None:
        self.path = path / "lock"
        self.what = what  # "session <id>" / "event <id>", for messages
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(self.path, flags, osfiles.PRIVATE_FILE)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open lock file: {exc.strerror}") from None
        try:
            osfiles.lock_exclusive(fd)
        except osfiles.LockBusy:
            holder = _read_holder(fd)
            os.close(fd)
            raise SessionLockedError(
                f"{self.what} is open in another roundtable (pid {holder}); close it first"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"{self.path}: cannot lock: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                osfiles.unlock(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 32).decode(errors="replace").strip() or "?"
    except OSError:
        return "?"
