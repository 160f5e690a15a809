"""The app as the Pilot tests drive it: a fixed clock, default settings, no sync, and the
demo session in a fresh home."""

from __future__ import annotations

from pathlib import Path

from roundtable.app import RoundtableApp
from roundtable.config import Settings
from roundtable.store import LocalStore

FIXED_NOW = 1_795_600_800.0  # 2026-11-25 09:20 UTC


def demo_home(tmp_path: Path) -> tuple[Path, str]:
    """A home under ``tmp_path`` holding the demo session; returns it and the session's id."""
    from roundtable.demo import create_demo
    from sessions import load_roster

    home = tmp_path / "home"
    return home, create_demo(LocalStore(home, wall=lambda: FIXED_NOW), load_roster())


def make_app(home: Path, session_id: str | None) -> RoundtableApp:
    return RoundtableApp(
        home=home,
        session_id=session_id,
        clock=lambda: FIXED_NOW,
        settings=Settings(),
        sync_enabled=False,
    )
