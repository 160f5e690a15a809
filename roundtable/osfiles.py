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

Private files (issue 19): on POSIX every file the laptop writes under its home (journals,
checkpoints, summaries, device and label files, settings, the sync token, logs, exports) is
created 0600 and every directory 0700 (``PRIVATE_FILE``, ``PRIVATE_DIR``: the atomic writer's
default, ``private_dirs``), so a session's TLP:RED text is not readable by the laptop's other
accounts; ``tighten_tree`` brings an existing home to that on its first open.  Only a file the
user names with ``--output`` is written 0644 (``SHARED_FILE``): it was asked for outside the
home.  The sync token is also refused when the group or others may read it.  On Windows mode
bits mean nothing (every file reports 0666): the home is in the user's profile, which only the
account can read by default, and access lists are not checked or changed; ``roundtable
locate`` says so (``private_file_note``).

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


PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SHARED_FILE = 0o644


def private_dirs(path: Path) -> None:
    """``path`` and every missing directory above it, created 0700 on POSIX (``Path.mkdir``
    gives the parents it creates the default mode, whatever ``mode`` says)."""
    missing: list[Path] = []
    at = path
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass  # made in between (another process): its mode is left to ``tighten_tree``
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(path))


def not_private(*paths: Path) -> bool:
    """Does the group or do others have any access to one of ``paths`` (those that exist)?
    Always False on Windows (see the module docstring)."""
    if is_windows():
        return False
    for path in paths:
        try:
            if os.lstat(path).st_mode & 0o077:
                return True
        except OSError:
            continue
    return False


def permission_bits(path: Path) -> int:
    """The permission bits of ``path`` (``0o700``...): what ``roundtable doctor`` reports."""
    return stat.S_IMODE(path.stat().st_mode)


def tighten_tree(root: Path) -> int:
    """Take the group's and others' access away from ``root`` and everything under it (a
    0755 directory becomes 0700, a 0644 file 0600; the owner's bits are left as they are),
    without following symbolic links; returns how many entries changed.  A no-op on Windows
    (see the module docstring)."""
    if is_windows() or not root.is_dir():
        return 0
    changed = 0

    def tighten(path: str) -> None:
        nonlocal changed
        try:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode & 0o077:
                os.chmod(path, mode & 0o700)  # the owner's own bits (read-only stays so)
                changed += 1
        except OSError:
            pass  # gone meanwhile, or not ours: nothing to tighten

    tighten(str(root))
    for top, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            full = os.path.join(top, name)
            if not os.path.islink(full):
                tighten(full)
    return changed


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = PRIVATE_FILE) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new content, never
    half: a temp file beside it, flushed, renamed over it, and the directory flushed.  The
    file gets ``mode`` (owner-only unless told otherwise; see the module docstring)."""
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
        if not is_windows():
            os.chmod(tmp, mode)  # whatever the umask, or a temp file left by a crash, said
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


def atomic_write_text(path: Path, text: str, *, mode: int = PRIVATE_FILE) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text, creating the parent directory (0700 when the
    file is private)."""
    if mode & 0o077:
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        private_dirs(path.parent)
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def write_private_text(path: Path, text: str) -> None:
    """A file only its owner may read (mode 0600 on POSIX; see the module docstring)."""
    atomic_write_text(path, text, mode=PRIVATE_FILE)


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
