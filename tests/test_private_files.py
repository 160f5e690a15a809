"""Issue 19, finding 7: on POSIX the laptop's home and everything under it is readable by its
own account only (directories 0700, files 0600), whatever the umask: sessions, journals,
checkpoints, locks, the device and label files, settings, the sync token, sync state, logs and
exports.  A home made before is tightened on its first open, and the store says so once (the
CLI: one line on stderr).  On Windows nothing is changed (mode bits mean nothing there)."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli import run

from roundtable import config, osfiles
from roundtable.store import LocalStore
from roundtable.sync import SyncClient

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX mode bits")


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    old = os.umask(0o022)  # the usual umask: what made homes 0755 and journals 0644
    try:
        yield home
    finally:
        os.umask(old)


def loose(home: Path) -> list[str]:
    """Every entry under ``home`` (itself included) the group or others may access."""
    out = []
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode & 0o077 or mode & want != want:
            out.append(f"{path.relative_to(home)} {mode:o}")
    return out


def fill(home: Path, capsys, live_server) -> str:
    """A home as a facilitator's laptop has it: a session with an entry, a RED one too,
    settings, a token, a sync, an exported minutes file."""
    code, out, err = run(capsys, "new", "--region", "europe", "--event", "Conference 2026")
    assert code == 0, err
    sid = out.strip()
    assert run(capsys, "add", sid, "/note Informant MARKER-RED ~red")[0] == 0
    assert run(capsys, "add", sid, "/need Training @FR")[0] == 0
    assert run(capsys, "export", sid, "--save")[0] == 0
    config.save_settings(label="Room B")
    event_id = live_server.create_event("Conference 2026")
    token = live_server.token(event_id, ["*"])
    config.save_token(token)
    store = LocalStore(home)
    result = asyncio.run(SyncClient(store, live_server.url, token).sync_once())
    assert result.ok, result.summary()
    store.close()
    return sid


def test_a_new_home_and_everything_under_it_is_private(home, capsys, live_server) -> None:
    fill(home, capsys, live_server)
    names = {p.name for p in home.rglob("*")}
    for expected in ("journal.jsonl", "device.json", "settings.toml", "token", "exports"):
        assert expected in names, expected
    assert any(p.parent.name == "exports" for p in home.rglob("*.md"))
    assert loose(home) == []


def test_an_existing_home_is_tightened_on_first_open_and_said_once(
    home, capsys, live_server
) -> None:
    sid = fill(home, capsys, live_server)
    # as the previous version left it
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert loose(home)
    code, out, err = run(capsys, "sessions")
    assert code == 0 and sid[:8] in out
    notes = [line for line in err.splitlines() if "0700" in line]
    assert len(notes) == 1 and notes[0].startswith("roundtable: note: "), err
    assert str(home) in notes[0]
    assert loose(home) == []
    code, _out, err = run(capsys, "sessions")  # said once: nothing left to tighten
    assert code == 0 and "0700" not in err


def test_the_app_store_notice_says_it_once(home) -> None:
    LocalStore(home).close()
    (home / "device.json").chmod(0o644)
    home.chmod(0o755)
    store = LocalStore(home)
    assert [n for n in store.notices if "0600" in n] and loose(home) == []
    assert not [n for n in LocalStore(home).notices if "0600" in n]


def test_a_file_named_with_output_is_not_made_private(home, capsys, tmp_path) -> None:
    code, out, _ = run(capsys, "new", "--region", "europe", "--event", "Conference 2026")
    target = tmp_path / "minutes.md"
    assert run(capsys, "export", out.strip(), "--output", str(target))[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_windows_is_left_alone(tmp_path: Path, monkeypatch) -> None:
    loose_dir = tmp_path / "old"
    loose_dir.mkdir(mode=0o755)
    (loose_dir / "journal.jsonl").write_text("x")
    (loose_dir / "journal.jsonl").chmod(0o644)
    monkeypatch.setattr(osfiles, "SYSTEM", "win32")
    assert not osfiles.not_private(loose_dir)
    assert osfiles.tighten_tree(loose_dir) == 0
    assert stat.S_IMODE((loose_dir / "journal.jsonl").stat().st_mode) == 0o644
