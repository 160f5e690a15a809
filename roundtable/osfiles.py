"""What differs by operating system for the laptop's files, in one place.

Named ``osfiles`` (not ``platform``, which would shadow the standard library's module).  Nothing
else in roundtable imports ``fcntl`` or ``msvcrt`` or reads a file's mode bits.

==============  ===========================  =============================  ====================
                lock (one writer a session)  durable flush of a file        flush of a directory
==============  ===========================  =============================  ====================
Linux, BSD      ``fcntl.flock`` (whole file) ``os.fsync``                   ``os.fsync`` of the
                                                                            directory
macOS           ``fcntl.flock``              ``fcntl(F_FULLFSYNC)`` (the    ``os.fsync`` of the
                                             drive's cache too, as SQLite   directory
                                             does); ``os.fsync`` where the
                                             file system refuses it
Windows         ``msvcrt.locking`` of one    ``os.fsync`` (FlushFileBuffers ``skipped``: Windows
                byte far past the pid, so    flushes the drive's cache)     cannot open a
                the pid stays readable                                      directory as a file;
                                                                            NTFS journals the
                                                                            rename itself
==============  ===========================  =============================  ====================

Replacing a file: ``os.replace`` everywhere; Windows refuses it while another process has the
file open, so there it is retried for up to ~1 s.

Private files (the sync token): on POSIX created with mode 0600 and refused when the group or
others may read them.  On Windows mode bits mean nothing (every file reports 0666): the file is
created in the user's profile, which only the account can read by default, and its access list
is not checked; ``roundtable locate`` says so (``private_file_note``).

The OS's calls are reached through :func:`_os_module`, so tests run each platform's branch with
the calls substituted (``tests/test_platform.py``).
"""

from __future__ import annotations

import errno
import importlib
import os
import stat
import sys
import time
from pathlib import Path
from types import ModuleType

SYSTEM = sys.platform
"""The platform the functions below act for (tests simulate another by setting it)."""

_LOCK_OFFSET = 1 << 30
"""Windows locks a byte range, and a locked range cannot be read by anyone else: the lock is
taken on one byte far past the pid written at the start, so a refused writer can read it."""


def _os_module(name: str) -> ModuleType:
    """``fcntl`` or ``msvcrt``, imported only on the platform that has it."""
    return importlib.import_module(name)


def is_windows() -> bool:
    return SYSTEM == "win32"


class LockBusy(OSError):
    """The lock is held by another open file (another process, or this one)."""


def lock_exclusive(fd: int) -> None:
    """Take the exclusive lock of the open file ``fd`` without waiting; ``LockBusy`` when
    another holds it, OSError for anything else."""
    if is_windows():
        msvcrt = _os_module("msvcrt")
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)):
                raise LockBusy(exc.errno, "locked by another process") from None
            raise
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return
    fcntl = _os_module("fcntl")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise LockBusy(exc.errno, "locked by another process") from None
        raise


def unlock(fd: int) -> None:
    """Let go of the lock taken by :func:`lock_exclusive` (closing the file does it too)."""
    if is_windows():
        msvcrt = _os_module("msvcrt")
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return
    fcntl = _os_module("fcntl")
    fcntl.flock(fd, fcntl.LOCK_UN)


def flush_file(fd: int) -> None:
    """Make what was written to ``fd`` durable, through the drive's own cache where the
    platform needs asking for that (macOS: ``F_FULLFSYNC``)."""
    if SYSTEM == "darwin":
        fcntl = _os_module("fcntl")
        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError:
            pass  # a file system without it (some network or FAT volumes): fsync below
    os.fsync(fd)


def flush_dir(directory: Path) -> None:
    """Make a directory's entries (a new file, a rename) durable.  Skipped on Windows, which
    has no way to open a directory for flushing; NTFS journals its metadata."""
    if is_windows():
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new content, never
    half: a temp file beside it, flushed, renamed over it, and the directory flushed."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        flush_file(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        if not is_windows() and not mode & 0o077:
            os.chmod(tmp, mode)  # a private file stays private even if the temp file existed
        replace_file(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    flush_dir(path.parent)


REPLACE_RETRIES = 20
"""Windows refuses to replace a file another process has open (a reader of the sessions list,
an antivirus scan) with PermissionError: the rename is retried for up to ~1 s, as SQLite does."""


def replace_file(tmp: Path, path: Path) -> None:
    """``os.replace``, retried on Windows (see ``REPLACE_RETRIES``)."""
    for attempt in range(REPLACE_RETRIES if is_windows() else 1):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:
            if not is_windows() or attempt == REPLACE_RETRIES - 1:
                raise
            time.sleep(0.05)


def atomic_write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text, creating the parent directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def write_private_text(path: Path, text: str) -> None:
    """A file only its owner may read (mode 0600 on POSIX; see the module docstring)."""
    atomic_write_text(path, text, mode=0o600)


def private_file_problem(path: Path) -> str | None:
    """Why ``path`` is not private (one line naming the file and the fix), or None when it is
    or when the platform cannot tell (Windows: see :func:`private_file_note`)."""
    if is_windows():
        return None
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"{path}: token file is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    return None


def private_file_note() -> str | None:
    """What ``roundtable locate`` says where a private file's access cannot be checked."""
    if is_windows():
        return (
            "on Windows the token file's access list is not checked: it lives in your user "
            "profile, which only your account can read unless an administrator shared it"
        )
    return None
