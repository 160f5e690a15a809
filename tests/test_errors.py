"""One base for every error a user may see (``roundtable.errors.RoundtableError``): the CLI and
the app report any of them as one line, whichever module raised it."""

from __future__ import annotations

from pathlib import Path

import pytest

from roundtable.errors import RoundtableError


def test_every_user_facing_error_derives_from_the_one_base() -> None:
    from roundtable.capture import CaptureError
    from roundtable.cli import CliError
    from roundtable.config import ConfigError
    from roundtable.protocol import ProtocolError
    from roundtable.secretariat.db import AdminError
    from roundtable.store import (
        CorruptStoreError,
        SessionLockedError,
        StoreError,
        UnknownSessionError,
    )
    from roundtable.sync import SyncError
    from roundtable.text import TextFileError
    from sessions import PlanError

    for cls in (CaptureError, CliError, ConfigError, ProtocolError, AdminError, StoreError,
                CorruptStoreError, SessionLockedError, UnknownSessionError, SyncError,
                TextFileError, PlanError):  # fmt: skip
        assert issubclass(cls, RoundtableError), cls


class _NewError(RoundtableError):
    """A user-facing error from a module the CLI has never heard of."""


def test_the_cli_prints_any_roundtable_error_as_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Before: only the classes listed in cli._known_errors() (found through sys.modules) were
    shown as they are; any other was an 'internal error' with a crash log."""
    from roundtable import cli

    def fails(args) -> int:
        raise _NewError(f"{tmp_path / 'x.toml'}:3: something precise")

    monkeypatch.setattr(cli, "cmd_locate", fails)
    monkeypatch.setenv("ROUNDTABLE_HOME", str(tmp_path / "home"))
    assert cli.main(["locate"]) == cli.EXIT_ERROR
    assert capsys.readouterr().err == f"roundtable: {tmp_path / 'x.toml'}:3: something precise\n"
    assert not (tmp_path / "home" / "logs").exists()  # no crash log: not a bug


def test_a_store_error_from_a_module_loaded_late_is_still_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roundtable import cli

    monkeypatch.setenv("ROUNDTABLE_HOME", str(tmp_path / "home"))
    assert cli.main(["export", "no-such-session"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("roundtable: no session ") and err.count("\n") == 1


async def test_the_app_reports_a_worker_stopped_by_a_roundtable_error(tmp_path: Path) -> None:
    from textual import work

    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.store import StoreError

    class App(RoundtableApp):
        @work(exclusive=True, group="test", exit_on_error=False)
        async def failing(self) -> None:
            raise StoreError("sessions/abc/journal.jsonl: not saved: No space left on device")

    app = App(home=tmp_path / "home", settings=Settings(), sync_enabled=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.failing()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [(n.message, n.severity) for n in app._notifications]
    assert ("sessions/abc/journal.jsonl: not saved: No space left on device", "error") in messages
