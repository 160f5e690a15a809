"""What differs by platform (``roundtable.osfiles``), each branch run here: Linux for real, the
Windows and macOS branches with the OS calls substituted (``osfiles._os_module`` and
``osfiles.SYSTEM``), the laptop side imported without ``fcntl``, and a wheel (or pure Python)
for every runtime dependency on Windows and macOS (that one reaches the package index, so it is
an ``e2e`` test).  mypy for win32 and darwin is not here: `make test` runs it (``make
typecheck``: the host, ``--platform win32`` and ``--platform darwin``, side by side)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from roundtable import config, osfiles
from roundtable.store import LocalStore, SessionLockedError, StoreError
from roundtable.store.lock import UnitLock

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------
# Simulated platforms
# ---------------------------------------------------------------------------------------------


class FakeMsvcrt:
    """``msvcrt.locking`` as Windows does it: a byte range of a file, refused (EACCES after
    its retries; EDEADLOCK for LK_LOCK) while another handle holds it, nothing else."""

    LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

    def __init__(self) -> None:
        self.held: dict[tuple[int, int], int] = {}  # (file id, offset) -> fd holding it
        self.calls: list[tuple[str, int]] = []

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        assert nbytes == 1
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        key = (os.fstat(fd).st_ino, offset)
        self.calls.append(("unlock" if mode == self.LK_UNLCK else "lock", offset))
        if mode == self.LK_UNLCK:
            if self.held.get(key) != fd:
                raise OSError(errno.EACCES, "Permission denied")
            del self.held[key]
            return
        if key in self.held:
            raise OSError(errno.EACCES, "Permission denied")
        self.held[key] = fd


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> FakeMsvcrt:
    fake = FakeMsvcrt()

    def module(name: str):
        if name == "fcntl":
            raise ModuleNotFoundError("No module named 'fcntl'")  # as on Windows
        assert name == "msvcrt"
        return fake

    monkeypatch.setattr(osfiles, "SYSTEM", "win32")
    monkeypatch.setattr(osfiles, "_os_module", module)
    return fake


class FakeFcntl:
    """macOS ``fcntl``: F_FULLFSYNC, which some file systems refuse (``refuse``)."""

    F_FULLFSYNC = 51

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.calls: list[tuple[int, int]] = []

    def fcntl(self, fd: int, cmd: int, arg: int = 0) -> int:
        self.calls.append((fd, cmd))
        if self.refuse:
            raise OSError(errno.ENOTSUP, "Operation not supported")
        return 0


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """os.fsync, recorded (and still done)."""
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


# ---------------------------------------------------------------------------------------------
# Locks
# ---------------------------------------------------------------------------------------------


def test_posix_lock_refuses_a_second_open_file_and_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    path.touch()
    first, second = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    try:
        osfiles.lock_exclusive(first)
        with pytest.raises(osfiles.LockBusy):
            osfiles.lock_exclusive(second)
        osfiles.unlock(first)
        osfiles.lock_exclusive(second)
    finally:
        os.close(first)
        os.close(second)


def test_windows_lock_leaves_the_pid_readable_and_names_it(
    tmp_path: Path, windows: FakeMsvcrt
) -> None:
    first = UnitLock(tmp_path, "session s1")
    first.acquire()
    assert windows.held and all(off == osfiles._LOCK_OFFSET for _, off in windows.held)
    second = UnitLock(tmp_path, "session s1")
    with pytest.raises(SessionLockedError) as refused:
        second.acquire()
    assert str(refused.value) == (
        f"session s1 is open in another roundtable (pid {os.getpid()}); close it first"
    )
    first.release()
    assert windows.held == {} and windows.calls[-1] == ("unlock", osfiles._LOCK_OFFSET)
    second.acquire()  # free again
    second.release()


def test_windows_lock_failure_other_than_busy_is_a_store_error(
    tmp_path: Path, windows: FakeMsvcrt, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int, mode: int, nbytes: int) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(windows, "locking", broken)
    with pytest.raises(StoreError, match=r"lock: cannot lock: Bad file descriptor$"):
        UnitLock(tmp_path, "session s1").acquire()


def test_a_session_store_works_end_to_end_on_simulated_windows(
    tmp_path: Path, windows: FakeMsvcrt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lock, journal, checkpoint and summary through the Windows branches; no directory is
    ever opened for flushing."""
    real_open = os.open

    def no_directory_open(path, flags, *a, **kw):
        assert not Path(path).is_dir(), f"a directory opened on Windows: {path}"
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", no_directory_open)
    store = LocalStore(tmp_path / "home")
    event = store.create_event("Conference")
    sid = store.create_session(event.id, "africa", "Africa RT", []).id
    with store.open_session(sid) as ss:
        ss.add_entry("need", "Training", delegations=["GH"])
        with pytest.raises(SessionLockedError, match=f"pid {os.getpid()}"):
            LocalStore(tmp_path / "home").open_session(sid)
    assert windows.held == {}
    monkeypatch.undo()
    with LocalStore(tmp_path / "home").open_session(sid, read_only=True) as ss:
        assert [e.text for e in ss.records("entry")] == ["Training"]


# ---------------------------------------------------------------------------------------------
# Durable flush
# ---------------------------------------------------------------------------------------------


def test_macos_flush_asks_the_drive_with_f_fullfsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[int]
) -> None:
    fake = FakeFcntl()
    monkeypatch.setattr(osfiles, "SYSTEM", "darwin")
    monkeypatch.setattr(osfiles, "_os_module", lambda name: fake)
    with open(tmp_path / "f", "wb") as f:
        f.write(b"x")
        osfiles.flush_file(f.fileno())
        assert fake.calls == [(f.fileno(), FakeFcntl.F_FULLFSYNC)] and fsyncs == []


def test_macos_flush_falls_back_to_fsync_where_f_fullfsync_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[int]
) -> None:
    fake = FakeFcntl(refuse=True)
    monkeypatch.setattr(osfiles, "SYSTEM", "darwin")
    monkeypatch.setattr(osfiles, "_os_module", lambda name: fake)
    with open(tmp_path / "f", "wb") as f:
        osfiles.flush_file(f.fileno())
        assert len(fake.calls) == 1 and fsyncs == [f.fileno()]


def test_linux_flush_is_fsync_of_the_file_and_of_the_directory(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    osfiles.atomic_write_bytes(tmp_path / "f", b"data")
    assert (tmp_path / "f").read_bytes() == b"data"
    assert len(fsyncs) == 2  # the temp file, then the directory holding the rename


def test_windows_skips_the_directory_flush(
    tmp_path: Path, windows: FakeMsvcrt, fsyncs: list[int]
) -> None:
    (tmp_path / "f").write_bytes(b"old")
    osfiles.atomic_write_bytes(tmp_path / "f", b"new")
    assert (tmp_path / "f").read_bytes() == b"new" and len(fsyncs) == 1  # the file only
    osfiles.flush_dir(tmp_path)
    assert len(fsyncs) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temp file left


# ---------------------------------------------------------------------------------------------
# Private files (the token)
# ---------------------------------------------------------------------------------------------


def test_posix_token_file_is_private_and_a_shared_one_refused(tmp_path: Path) -> None:
    path = config.save_token("tok-123", tmp_path / "token")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.load_token(path) == "tok-123"
    path.chmod(0o644)
    with pytest.raises(config.ConfigError) as refused:
        config.load_token(path)
    assert str(refused.value) == (
        f"{path}: token file is readable by others (mode 644); run: chmod 600 {path}"
    )


def test_windows_token_file_is_not_judged_by_mode_bits_and_locate_says_so(
    tmp_path: Path, windows: FakeMsvcrt, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "token"
    path.write_text("tok-123\n", encoding="utf-8")
    path.chmod(0o666)  # what every file reports on Windows
    assert config.load_token(path) == "tok-123"
    from roundtable import cli

    assert cli.main(["locate"]) == 0
    out, err = capsys.readouterr()
    assert "token\t" in out and "note:" not in out
    assert err.startswith("note: on Windows the token file's access list is not checked")
    assert err.count("\n") == 1


def test_posix_locate_has_no_note(capsys: pytest.CaptureFixture[str]) -> None:
    from roundtable import cli

    assert cli.main(["locate"]) == 0
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------
# The laptop side without fcntl; nothing else reaches for the OS's calls
# ---------------------------------------------------------------------------------------------


def laptop_modules() -> list[str]:
    names = []
    for package in ("roundtable", "widgets", "sessions"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if rel.parts[:2] == ("roundtable", "secretariat") or rel.name == "__main__":
                continue
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            names.append(".".join(parts))
    return names


BLOCKER = """
import importlib.abc, sys
class NoFcntl(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("fcntl", "termios", "tty", "pty"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
for name in ("fcntl", "termios", "tty", "pty"):
    sys.modules.pop(name, None)
sys.meta_path.insert(0, NoFcntl())
import importlib
for module in sys.argv[1:]:
    importlib.import_module(module)
assert "fcntl" not in sys.modules
print("ok", len(sys.argv) - 1)
"""


def test_every_laptop_module_imports_without_fcntl() -> None:
    modules = laptop_modules()
    assert "roundtable.store.unit" in modules and "roundtable.app" in modules
    run = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == f"ok {len(modules)}"


def test_only_osfiles_reaches_for_os_specific_calls() -> None:
    offenders = []
    for package in ("roundtable", "widgets", "sessions"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "roundtable" / "osfiles.py":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("import fcntl", "import msvcrt", "st_mode", "S_IMODE", "O_RDONLY"):
                if needle in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


# ---------------------------------------------------------------------------------------------
# Wheels for Windows and macOS
# ---------------------------------------------------------------------------------------------

PLATFORMS = {
    "windows": ["win_amd64"],
    "macos": ["macosx_11_0_arm64", "macosx_10_13_x86_64"],
}


def runtime_requirements() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


@pytest.mark.e2e  # reaches the package index: `make e2e`
@pytest.mark.parametrize("system", sorted(PLATFORMS))
def test_every_runtime_dependency_installs_on(system: str, tmp_path: Path) -> None:
    """``pip download --only-binary=:all:`` finds a wheel (platform or pure Python) for every
    runtime dependency; skipped only when the package index cannot be reached."""
    args = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp",
            "--dest", str(tmp_path)]  # fmt: skip
    for tag in PLATFORMS[system]:
        args += ["--platform", tag]
    missing = []
    for requirement in runtime_requirements():
        run = subprocess.run([*args, requirement], capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            reachable = not any(
                s in run.stderr
                for s in ("NewConnectionError", "Network is unreachable", "Temporary failure in "
                          "name resolution", "ConnectTimeout", "ProxyError", "Max retries")
            )  # fmt: skip
            if not reachable:
                pytest.skip(f"the package index cannot be reached: {run.stderr.strip()[-200:]}")
            missing.append(f"{requirement}: {run.stderr.strip().splitlines()[-1]}")
    assert missing == []
    wheels = sorted(p.name for p in tmp_path.glob("*.whl"))
    assert len(wheels) == len(runtime_requirements()), wheels


def test_windows_retries_a_replace_refused_while_the_file_is_open_elsewhere(
    tmp_path: Path, windows: FakeMsvcrt, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.replace
    refusals = [PermissionError(13, "Access is denied")] * 2

    def replace(src, dst):
        if refusals:
            raise refusals.pop()
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(osfiles.time, "sleep", lambda s: None)
    osfiles.atomic_write_bytes(tmp_path / "view.json", b"{}")
    assert (tmp_path / "view.json").read_bytes() == b"{}" and refusals == []
    refusals.extend([PermissionError(13, "Access is denied")] * osfiles.REPLACE_RETRIES)
    with pytest.raises(PermissionError):
        osfiles.atomic_write_bytes(tmp_path / "view.json", b"[]")
    assert [p.name for p in tmp_path.iterdir()] == ["view.json"]  # no temp file left behind
    assert (tmp_path / "view.json").read_bytes() == b"{}"


def test_posix_does_not_retry_a_refused_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def replace(src, dst):
        calls.append(dst)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PermissionError):
        osfiles.atomic_write_bytes(tmp_path / "f", b"x")
    assert len(calls) == 1
